import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../errors.ts';

/**
 * Mounts each plugin's routes under /api/plugins/<id>/. A plugin that is not active (failed,
 * disabled, or the database not ready yet) answers 503 there, and nothing else is affected.
 */
export async function pluginRoutesPlugin(app: FastifyInstance): Promise<void> {
  for (const plugin of app.plugins.plugins) {
    if (!plugin.routes) continue;
    await app.register(
      async (scope) => {
        scope.addHook('onRequest', async () => {
          if (!app.plugins.isActive(plugin.id) && app.setupStatus.isServing()) {
            throw new AppError(503, 'plugin_unavailable', `The ${plugin.id} plugin is ${app.plugins.statusOf(plugin.id)}. GET /api/plugins shows why.`);
          }
        });
        try {
          await plugin.routes!(scope.withTypeProvider<TypeBoxTypeProvider>(), app.plugins.contextFor(plugin));
        } catch (error) {
          app.log.error({ err: error, plugin: plugin.id }, `Plugin ${plugin.id}: registering its routes failed`);
          app.plugins.failRoutes(plugin.id, error);
        }
      },
      { prefix: `/api/plugins/${plugin.id}` },
    );
  }
}
