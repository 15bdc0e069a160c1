// Connections to the Redis behind a queue campaign. A URL is parsed here
// into explicit options (host, port, db, user, password, TLS for rediss://)
// so nothing else in it reaches the client, and it is shown only with its
// password blanked: the password never appears in output, logs or files.
// Reaching the server at start is bounded (REDIS_CONNECT_MS): an unreachable
// Redis is one QueueFailed line, never a hang.

import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { BadInput } from '../machine/errors.ts';

/** Redis could not be reached, or a campaign could not go on; one line, exit 1. */
export class QueueFailed extends Error {
  override name = 'QueueFailed';
}

/** How long a first connection may take before the command gives up. */
export const REDIS_CONNECT_MS = 6_000;
const DB_MAX = 15;

export interface QueueTarget {
  /** The URL with its password blanked: the only form that is ever printed or stored. */
  shown: string;
  options: RedisOptions;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Where a password can come from without showing in `ps`: redis-cli's own variable. */
export const PASSWORD_ENV = 'REDISCLI_AUTH';

/** `redis://[user:password@]host[:port][/db]` or `rediss://` for TLS; without a password in it, $REDISCLI_AUTH if set. */
export function parseQueueUrl(flag: string, url: string, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BadInput(`${flag} ${redactUrl(url)}: not a URL (example: redis://127.0.0.1:6379/0)`);
  }
  const shown = redactUrl(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new BadInput(`${flag} ${shown}: must be redis:// or rediss:// (TLS)`);
  if (!u.hostname) throw new BadInput(`${flag} ${shown}: names no host`);
  if (u.search || u.hash) throw new BadInput(`${flag} ${shown}: takes no query or fragment`);
  const dbText = u.pathname.replace(/^\//, '') || '0';
  if (!/^\d+$/.test(dbText) || Number(dbText) > DB_MAX) throw new BadInput(`${flag} ${shown}: the database after the host must be 0 to ${DB_MAX}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port: u.port ? Number(u.port) : 6379,
    db: Number(dbText),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : env[PASSWORD_ENV] ? { password: env[PASSWORD_ENV] } : {}),
    // SNI carries host names only; a certificate for an IP address is still checked against it
    ...(u.protocol === 'rediss:' ? { tls: isIP(host) ? {} : { servername: host } } : {}),
  };
  return { shown, options };
}

function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? (err.message || String(e)).split('\n')[0]!;
}

/**
 * A client for BullMQ (which wants maxRetriesPerRequest null: commands wait
 * out a reconnection instead of failing), after one bounded check that the
 * server answers and accepts the credentials.
 */
export async function connectRedis(target: QueueTarget): Promise<Redis> {
  const probe = new Redis({ ...target.options, lazyConnect: true, connectTimeout: REDIS_CONNECT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: unknown = null;
  probe.on('error', (e) => (lastError = e));
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new QueueFailed(`redis ${target.shown}: unreachable (${describeError(lastError ?? e)})`);
  } finally {
    probe.disconnect();
  }
  return bullClient(target);
}

/** Options for a connection BullMQ opens and closes itself: commands wait out a reconnection instead of failing. */
export function bullOptions(target: QueueTarget): RedisOptions {
  return { ...target.options, maxRetriesPerRequest: null, connectTimeout: REDIS_CONNECT_MS, retryStrategy: (times) => Math.min(times * 200, 2000) };
}

/** A client of our own for BullMQ to share, so we can drop it whatever state Redis is in. */
export function bullClient(target: QueueTarget): Redis {
  const client = new Redis(bullOptions(target));
  // errors show up where they matter (a command that fails); an unhandled 'error' event would print the client's internals
  client.on('error', () => {});
  return client;
}
