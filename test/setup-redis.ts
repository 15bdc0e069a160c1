// Global setup: the queue tests need Debian's redis-server. When it is
// missing, install it with apt-get where that can work (root on Debian);
// where it cannot, say loudly which tests will not run, in one line.
// SHOOTDOWN_REDIS_SERVER names another binary (a build of one's own).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The redis-server binary, or null when there is none. */
    redisServer: string | null;
  }
}

export const QUEUE_TESTS = 'test/queue.test.ts (campaigns through Redis: SIGKILL of a worker, coordinator re-attach, Redis restart, hostile blocks, passwords, unreachable Redis, TLS)';

function works(bin: string): boolean {
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).status === 0;
}

function install(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/etc/debian_version') || !existsSync('/usr/bin/apt-get')) return 'not Debian (no apt-get)';
  process.stderr.write('redis-server is missing: installing it with apt-get for the queue tests\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
  if (update.status !== 0) return 'apt-get update failed';
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env, stdio: 'ignore' });
  return r.status === 0 ? null : 'apt-get install redis-server failed';
}

export default function setup(project: TestProject): void {
  const bin = process.env.SHOOTDOWN_REDIS_SERVER ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server');
  let why: string | null = null;
  if (!works(bin)) why = install();
  const ok = why === null && works(bin);
  if (!ok) process.stderr.write(`\n!!!!! SKIPPED: ${QUEUE_TESTS}: redis-server is missing and could not be installed (${why ?? 'it does not run'}) !!!!!\n\n`);
  project.provide('redisServer', ok ? bin : null);
}
