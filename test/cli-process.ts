// The real CLI in a child process, as a user meets it: blocking (cli) or not
// (cliAsync, so independent cases run side by side), with a timeout that
// kills a hung child instead of hanging the suite.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEntry } from '../src/engine/worker-env.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * The CLI as one bundled module, built from the same sources once per test
 * file: under tsx every spawn spent about 0.8 s of cpu compiling and loading
 * the model before it parsed a flag, and the suite spawns the CLI a few
 * hundred times. It sits two folders below the checkout, as src/cli.ts does,
 * so the paths the CLI finds from its own place are the same.
 */
export const CLI_ARGV: readonly string[] = [bundleEntry(join(ROOT, 'src', 'cli.ts'), 'cli', join(ROOT, 'node_modules', '.cache'))];
export const CLI_TIMEOUT_MS = 60_000;
const CLI_ENV = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cli(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [...CLI_ARGV, ...args], { cwd: ROOT, encoding: 'utf8', timeout: CLI_TIMEOUT_MS, env: CLI_ENV });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function describeRun(r: CliRun): string {
  return `exit ${r.status} (signal ${r.signal})\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout}`;
}

export function cliAsync(...args: string[]): Promise<CliRun> {
  return cliAsyncWith({}, ...args);
}

/** cliAsync with more in the environment. */
export function cliAsyncWith(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: ROOT, env: { ...CLI_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** A failure told as the CLI should tell it: one `shootdown: ` line on stderr, no stack trace. */
export function oneLine(r: CliRun): string {
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  if (lines.length !== 1 || !lines[0]!.startsWith('shootdown: ') || r.stderr.includes('    at ')) throw new Error(`not one shootdown: line\n${describeRun(r)}`);
  return lines[0]!;
}

/** tsx by absolute URL, so a CLI process can run in any folder. */
const TSX = import.meta.resolve('tsx');
const CLI_WAIT_MS = 120_000;

/** A CLI process that keeps running, in any folder: its output so far, a wait for a line, and its end. `root`: the checkout whose CLI runs (another model's, in a copy). */
export class CliProcess {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly done: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
  constructor(cwd: string, args: string[], env: Record<string, string> = {}, root = ROOT) {
    this.child = spawn(process.execPath, root === ROOT ? [...CLI_ARGV, ...args] : ['--import', TSX, join(root, 'src', 'cli.ts'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...CLI_ENV, ...env } });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.done = new Promise((resolve) => this.child.on('close', (status, signal) => resolve({ status, signal })));
  }
  async waitFor(re: RegExp, what = String(re)): Promise<RegExpExecArray> {
    const t0 = performance.now();
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (this.child.exitCode !== null || performance.now() - t0 > CLI_WAIT_MS) throw new Error(`never saw ${what}\n--- stdout ---\n${this.out}\n--- stderr ---\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async end(sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
    await this.done;
  }
}

