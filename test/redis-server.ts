// A real redis-server for the queue tests: on a free loopback port, with its
// own temporary folder and its append-only file on (so a restart keeps the
// campaign), stopped and removed afterwards.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_MS = 10_000;

export interface RedisServer {
  port: number;
  dir: string;
  /** The URL with the password, as a user would give it. */
  url: string;
  /** Stop the server (SHUTDOWN on SIGTERM: the append-only file is complete) and start it again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ port, host: '127.0.0.1' }, () => {
      c.write('PING\r\n');
    });
    c.on('data', (d) => {
      c.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()));
    });
    c.on('error', () => resolve(false));
  });
}

async function waitUntil(what: string, ok: () => Promise<boolean>): Promise<void> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > START_MS) throw new Error(`redis-server: ${what} in ${START_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(bin: string, password: string): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'shootdown-redis-'));
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--requirepass', password, '--daemonize', 'no', '--logfile', join(dir, 'redis.log')];
    child = spawn(bin, args, { stdio: 'ignore' });
    await waitUntil('no answer', () => answers(port));
  };
  const halt = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.on('exit', r));
    c.kill('SIGTERM');
    await gone;
  };
  await launch();
  return {
    port,
    dir,
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}/0`,
    restart: async () => {
      await halt();
      await launch();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
