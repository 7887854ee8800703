import { isIP } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Answers only requests whose Host header names this server, so a page on another domain that
 * rebinds its DNS to this address cannot read the API (the setup endpoints above all).
 */
export const hostCheckPlugin = fp(async (app: FastifyInstance, options: { config: Config }) => {
  const allowed = allowedHostNames(options.config);
  if (!allowed) {
    app.log.warn(`Listening on ${options.config.host} and answering to any Host name: set ALLOWED_HOSTS to this server's public host name(s) to guard against DNS rebinding.`);
    return;
  }
  const checkHost: onRequestHookHandler = (request, _reply, done) => {
    if (allowed.has(hostNameOf(request.headers.host))) return done();
    done(new AppError(403, 'host_not_allowed', 'This server does not answer to the host name in the Host header. Add it to ALLOWED_HOSTS to allow it.'));
  };
  app.addHook('onRequest', checkHost);
});

/**
 * The host names to accept, or null for any: loopback names plus ALLOWED_HOSTS, or loopback names
 * alone when listening on loopback only. A rebinding page always sends its own domain as Host,
 * never a loopback name, so those stay accepted (the container's healthcheck calls 127.0.0.1).
 */
function allowedHostNames(config: Config): ReadonlySet<string> | null {
  if (config.http.allowedHosts) return new Set([...LOOPBACK_NAMES, ...config.http.allowedHosts]);
  return isLoopback(config.host) ? new Set(LOOPBACK_NAMES) : null;
}

function isLoopback(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** `Example.com:8080` → `example.com`, `[::1]:3000` → `[::1]`; '' without a Host header. */
function hostNameOf(host: string | undefined): string {
  if (!host) return '';
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name.toLowerCase();
}
