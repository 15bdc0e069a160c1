// A real redis-server for the queue tests: on a free loopback port, with its
// own temporary folder and its append-only file on (so a restart keeps the
// campaign), stopped and removed afterwards.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_MS = 10_000;

export interface RedisServer {
  port: number;
  dir: string;
  /** The URL with the password, as a user would give it. */
  url: string;
  /** With TLS: the CA that signed the server's certificate (for NODE_EXTRA_CA_CERTS). */
  caFile: string | null;
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

/** A CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=shootdown test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('san.ext'), '-out', f('server.pem'));
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

function answers(port: number, ca: string | null): Promise<boolean> {
  return new Promise((resolve) => {
    const hello = (): void => void c.write('PING\r\n');
    const c: Socket = ca ? tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(ca) }, hello) : connect({ port, host: '127.0.0.1' }, hello);
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

export async function startRedis(bin: string, password: string, tls = false): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'shootdown-redis-'));
  const certs = tls ? makeCertificates(dir) : null;
  const ports = certs ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no'] : ['--port', String(port)];
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const args = [...ports, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--requirepass', password, '--daemonize', 'no', '--logfile', join(dir, 'redis.log')];
    child = spawn(bin, args, { stdio: 'ignore' });
    await waitUntil('no answer', () => answers(port, certs?.ca ?? null));
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
    url: `${tls ? 'rediss' : 'redis'}://:${encodeURIComponent(password)}@127.0.0.1:${port}/0`,
    caFile: certs?.ca ?? null,
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
