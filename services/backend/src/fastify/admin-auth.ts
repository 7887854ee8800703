import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashToken, isActiveAdminToken } from '../admin/tokens.ts';
import type { Core } from '../core.ts';
import { AppError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook for admin routes: `Authorization: Bearer <admin token>` or 401, before the body is read or validated. */
    requireAdmin: (request: FastifyRequest) => Promise<void>;
    /**
     * Whether the caller may read full error details (hosts, folders, key ids) on public routes:
     * it holds the admin token, or the setup token while the instance is not set up. Never throws.
     */
    maySeeDetail: (request: FastifyRequest) => Promise<boolean>;
  }
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1]! : null;
}

export const adminAuthPlugin = fp(
  async (app: FastifyInstance, { core }: { core: Core }) => {
    // Hashes of admin tokens this process saw accepted. While the database does not answer (when
    // error details matter most) they still unlock details, never admin routes; a check that
    // answers "not active" drops one.
    const accepted = new Set<string>();

    app.decorate('requireAdmin', async (request: FastifyRequest) => {
      const token = bearerToken(request);
      if (!token) {
        throw new AppError(401, 'admin_token_required', 'Send the admin token as `Authorization: Bearer <token>`. Setup showed it once; `npm run admin:token` issues a new one.');
      }
      if (!(await isActiveAdminToken(core.active.db, token))) {
        throw new AppError(401, 'invalid_admin_token', 'The admin token is wrong or was revoked. `npm run admin:token` on the server issues a new one.');
      }
      accepted.add(hashToken(token));
    });

    app.decorate('maySeeDetail', async (request: FastifyRequest) => {
      const setupToken = request.headers['x-setup-token'];
      if (typeof setupToken === 'string' && core.runner.acceptsSetupToken(setupToken)) return true;
      const token = bearerToken(request);
      if (!token) return false;
      const hash = hashToken(token);
      if (!core.status.isServing()) return accepted.has(hash);
      try {
        const active = await isActiveAdminToken(core.active.db, token);
        if (active) accepted.add(hash);
        else accepted.delete(hash);
        return active;
      } catch {
        return accepted.has(hash);
      }
    });
  },
  { name: 'groundwork-admin-auth' },
);
