# Groundwork: multi-stage build. The runtime image has production dependencies only and runs as
# the unprivileged "node" user. See docs/deploy.md.

# --- build: install everything, build the web UI -------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/backend/package.json services/backend/
COPY services/frontend/package.json services/frontend/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime ----------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    PERSISTENT_DATA_DIR=/app/persistent_data
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/backend/package.json services/backend/
COPY services/frontend/package.json services/frontend/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY drizzle ./drizzle
COPY services/backend/src ./services/backend/src
COPY services/backend/plugins ./services/backend/plugins
COPY --from=build /app/services/frontend/dist ./services/frontend/dist
# The server refuses a data folder others can write to; 0700 also keeps them from reading it.
RUN mkdir -p -m 700 /app/persistent_data && chown node:node /app/persistent_data
USER node
VOLUME ["/app/persistent_data"]
EXPOSE 3000
# Ready = set up and the database answers; the orchestrator restarts or holds traffic otherwise.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/api/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "services/backend/src/server.ts"]
