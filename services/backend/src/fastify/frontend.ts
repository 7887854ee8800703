import { existsSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the built Vue app. Client-side routes (/setup, /) get index.html; API paths and missing
 * files (anything with an extension) get a real 404, never HTML.
 */
export const frontendPlugin = fp(async (app: FastifyInstance, options: { distDir: string }) => {
  const hasBuild = existsSync(join(options.distDir, 'index.html'));
  if (hasBuild) {
    await app.register(fastifyStatic, {
      root: options.distDir,
      wildcard: false,
      index: false,
      // Vite puts a content hash in every asset name, so those can be cached for good.
      setHeaders: (reply, filePath) => {
        reply.header('cache-control', filePath.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const isPage = request.method === 'GET' && !path.startsWith('/api') && extname(path) === '';
    if (isPage && hasBuild) return reply.type('text/html').sendFile('index.html');
    if (isPage) {
      return reply.status(404).send({ error: 'frontend_not_built', message: 'The web interface is not built. Run `npm run build` (or `npm start`, which builds it).' });
    }
    return reply.status(404).send({ error: 'not_found', message: `Nothing at ${request.method} ${path}.` });
  });
});
