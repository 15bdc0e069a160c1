// The real CLI in a child process, as a user meets it: blocking (cli) or not
// (cliAsync, so independent cases run side by side), with a timeout that
// kills a hung child instead of hanging the suite.

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI_TIMEOUT_MS = 60_000;
const CLI_ENV = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cli(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: CLI_TIMEOUT_MS, env: CLI_ENV });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function describeRun(r: CliRun): string {
  return `exit ${r.status} (signal ${r.signal})\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout}`;
}

export function cliAsync(...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
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
