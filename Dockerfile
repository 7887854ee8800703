# Groundwork: multi-stage build on the current Node LTS. The runtime image has production
# dependencies only, runs the compiled JavaScript with plain node (no TypeScript loader) and runs
# as the unprivileged "node" user. See docs/deploy.md.

# --- build: install everything, compile the backend and its plugins, build the web UI -------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/backend/package.json services/backend/
COPY services/frontend/package.json services/frontend/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime ----------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    PERSISTENT_DATA_DIR=/app/persistent_data
WORKDIR /app
# pg_dump for `npm run db:backup` of a PostgreSQL server: it must be the server's major version or
# newer, and bookworm has only 15, so the client comes from apt.postgresql.org (17, as in docker-compose.yml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-17 \
 && apt-get purge -y curl && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY services/backend/package.json services/backend/
COPY services/frontend/package.json services/frontend/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY drizzle ./drizzle
# dist/src is the server and its CLIs, dist/plugins the bundled plugins (the default PLUGINS_DIR).
COPY --from=build /app/services/backend/dist ./services/backend/dist
COPY --from=build /app/services/frontend/dist ./services/frontend/dist
# `npm run db:move` starts the compiled command through it (no sources here: dist is current).
COPY scripts/run-cli.js ./scripts/
# The server refuses a data folder others can write to; 0700 also keeps them from reading it.
RUN mkdir -p -m 700 /app/persistent_data && chown node:node /app/persistent_data
USER node
VOLUME ["/app/persistent_data"]
EXPOSE 3000
# Ready = set up and the database answers; the orchestrator restarts or holds traffic otherwise.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/api/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# The same node options as `npm start` (services/backend/package.json): two V8 helper threads, not
# four; each holds its own malloc arena, ~60 MB of an idle embedded-database server's RSS.
CMD ["node", "--v8-pool-size=2", "services/backend/dist/src/server.js"]
