/** The memory baseline: a bare Fastify process with one JSON route, nothing else loaded. */
import Fastify from 'fastify';

const app = Fastify();
app.get('/', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`Server listening at http://127.0.0.1:${(app.server.address() as { port: number }).port}`);
