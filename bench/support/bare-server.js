// The baseline for boot and memory: a bare Fastify process with one JSON route, nothing else
// loaded, as plain JavaScript run by node (as `npm start` runs the compiled server: no tsx).
import Fastify from 'fastify';

const app = Fastify();
app.get('/', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`Server listening at http://127.0.0.1:${app.server.address().port}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
