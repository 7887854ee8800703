import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorRef } from '../schemas/common.ts';

const Ok = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });
const Ready = Type.Object({ status: Type.Literal('ready') }, { additionalProperties: false });

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/health',
    { config: { availableBeforeReady: true }, schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: Ok } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/api/health/ready',
    {
      config: { availableBeforeReady: true },
      schema: { tags: ['health'], summary: 'Readiness: set up and the database answers', response: { 200: Ready, 503: errorRef } },
    },
    async (_request, reply) => {
      const readiness = await app.setup.readiness();
      if (readiness.ready) return { status: 'ready' as const };
      return reply.status(503).send({ error: 'not_ready', message: readiness.reason });
    },
  );
};

export default healthRoutes;
