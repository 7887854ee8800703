// The app as `npm start` runs it (the compiled build, plain node), plus one bare JSON route (no
// schema, no logic): the baseline for the status benchmarks, served by the same process, the same
// Fastify and the same plugins. Prints its port.
import { buildApp } from '../../services/backend/dist/src/app.js';
import { loadConfig } from '../../services/backend/dist/src/config.js';

const app = await buildApp(loadConfig());
// The same JSON body as status gives, as a constant: the difference measured is our code, not bytes.
const body = app.setupStatus.snapshot();
app.get('/bench/bare', { config: { availableBeforeReady: true } }, async () => body);
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
