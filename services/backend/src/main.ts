import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startControlChannel, type ControlChannel } from './control/index.ts';
import { compactHeapSoon, enableHeapCompaction } from './heap-compaction.ts';

// Long enough for a setup in flight to finish (a first PGlite initdb takes seconds on a busy
// machine); docker-compose.yml gives the container 30 s before SIGKILL.
const SHUTDOWN_GRACE_MS = 25_000;

/** The server (started by server.ts): configuration → app → listen → boot the database → close cleanly on signals. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  enableHeapCompaction();
  const app = await buildApp(config);
  let control: ControlChannel | null = null;

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'Shutting down after an unexpected error');
    else app.log.info(`${signal} received, shutting down`);
    await control?.close();
    await app.close();
  });

  // An instance set up on PostgreSQL connects while the server gets ready to listen.
  app.boot.connectAhead();
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host;
  // Status and health answer while the database connects; boot retries on its own if it is down.
  await app.boot.start(`http://${shownHost}:${port}`);
  // After boot has checked PERSISTENT_DATA_DIR: npm run db:backup and db:move reach the running
  // server through PERSISTENT_DATA_DIR/control.sock.
  try {
    control = await startControlChannel(app);
  } catch (error) {
    app.log.warn({ err: error }, 'The control socket could not be started: npm run db:backup and db:move cannot reach this running server');
  }
  compactHeapSoon();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
