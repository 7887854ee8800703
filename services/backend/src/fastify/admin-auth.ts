import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isActiveAdminToken } from '../admin/tokens.ts';
import { AppError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook for admin routes: `Authorization: Bearer <admin token>` or 401, before the body is read or validated. */
    requireAdmin: (request: FastifyRequest) => Promise<void>;
  }
}

export const adminAuthPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('requireAdmin', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match) {
        throw new AppError(401, 'admin_token_required', 'Send the admin token as `Authorization: Bearer <token>`. Setup showed it once; `npm run admin:token` issues a new one.');
      }
      if (!(await isActiveAdminToken(app.setup.database(), match[1]!))) {
        throw new AppError(401, 'invalid_admin_token', 'The admin token is wrong or was revoked. `npm run admin:token` on the server issues a new one.');
      }
    });
  },
  { dependencies: ['groundwork-setup'] },
);
