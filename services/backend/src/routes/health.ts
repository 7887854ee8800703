import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ReadinessProbe } from '../setup/readiness.ts';

const Ok = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });
const Ready = Type.Object({ status: Type.Literal('ready') }, { additionalProperties: false });
/** The one error shape, plus `detail` for callers holding the admin token (or the setup token before setup). */
const NotReady = Type.Object(
  {
    error: Type.Literal('database_not_ready'),
    message: Type.String({ description: 'Why, in plain words: never hosts, users, folders or key ids.' }),
    detail: Type.Optional(Type.String({ description: 'The full reason. Only with `Authorization: Bearer <admin token>`, or X-Setup-Token before setup.' })),
  },
  { additionalProperties: false },
);

const healthRoutes: FastifyPluginAsyncTypebox<{ readiness: ReadinessProbe }> = async (app, { readiness: probe }) => {
  app.get(
    '/api/health',
    { config: { availableBeforeReady: true }, schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: Ok } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/api/health/ready',
    {
      config: { availableBeforeReady: true },
      schema: { tags: ['health'], summary: 'Readiness: set up and the database answers', response: { 200: Ready, 503: NotReady } },
    },
    async (request, reply) => {
      const readiness = await probe.check();
      if (readiness.ready) return { status: 'ready' as const };
      const body = { error: 'database_not_ready' as const, message: readiness.reason };
      const withDetail = readiness.detail !== undefined && (await app.maySeeDetail(request));
      return reply.status(503).send(withDetail ? { ...body, detail: readiness.detail } : body);
    },
  );
};

export default healthRoutes;
