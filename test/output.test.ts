// Writing results never harms what the path names: a symlink stays a link
// and its target gets the result, a device stays a device, a FIFO is written
// to its reader, `-` is stdout, and a full disk is one line, exit 1, with the
// previous file whole and no temporary file left.

import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAsync, describeRun, oneLine } from './cli-process.ts';

const RUN = ['run', '--cpus', '2', '--pages', '64'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shootdown-output-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function isResult(text: string): boolean {
  const r = JSON.parse(text) as { schema?: number; variant?: string };
  return r.schema === 3 && r.variant === 'rework';
}

describe('--json onto what the path names', () => {
  it.concurrent('a symlink: the link stays, its target is replaced beside it, its mode kept', async () => {
    const real = join(dir, 'real.json');
    writeFileSync(real, 'old\n', { mode: 0o640 });
    symlinkSync('real.json', join(dir, 'link.json'));
    const r = await cliAsync(...RUN, '--json', join(dir, 'link.json'));
    expect(r.status, describeRun(r)).toBe(0);
    expect(lstatSync(join(dir, 'link.json')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link.json'))).toBe('real.json');
    expect(isResult(readFileSync(real, 'utf8'))).toBe(true);
    expect(statSync(real).mode & 0o777).toBe(0o640);
  });

  it.concurrent('a dangling symlink: the file it names is created, the link kept', async () => {
    mkdirSync(join(dir, 'sub'));
    symlinkSync('sub/new.json', join(dir, 'dangling.json'));
    const r = await cliAsync(...RUN, '--json', join(dir, 'dangling.json'));
    expect(r.status, describeRun(r)).toBe(0);
    expect(lstatSync(join(dir, 'dangling.json')).isSymbolicLink()).toBe(true);
    expect(isResult(readFileSync(join(dir, 'sub', 'new.json'), 'utf8'))).toBe(true);
  });

  it.concurrent('a device (/dev/null) stays a character device', async () => {
    const before = statSync('/dev/null');
    const r = await cliAsync(...RUN, '--json', '/dev/null');
    expect(r.status, describeRun(r)).toBe(0);
    const after = statSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(before.rdev);
    expect(readdirSync('/dev').filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it.concurrent('/dev/full: one line naming ENOSPC, exit 1, still a device', async () => {
    const r = await cliAsync(...RUN, '--json', '/dev/full');
    expect(r.status, describeRun(r)).toBe(1);
    expect(oneLine(r)).toMatch(/cannot write \/dev\/full: ENOSPC/);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it.concurrent('-: the JSON alone on stdout, the summary on stderr', async () => {
    const r = await cliAsync(...RUN, '--json', '-');
    expect(r.status, describeRun(r)).toBe(0);
    expect(isResult(r.stdout)).toBe(true);
    expect(r.stderr).toContain('violations: none');
  });

  it.concurrent('a FIFO with a reader gets the JSON; with none, one line and exit 1 instead of a hang', async () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const lonely = await cliAsync(...RUN, '--json', fifo);
    expect(lonely.status, describeRun(lonely)).toBe(1);
    expect(oneLine(lonely)).toContain('no process reading it');
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    const r = await cliAsync(...RUN, '--json', fifo);
    await readerDone;
    expect(r.status, describeRun(r)).toBe(0);
    expect(isResult(got)).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});

describe('--json onto a full disk', () => {
  const mnt = join(tmpdir(), `shootdown-full-${process.pid}`);
  let mounted = false;
  beforeAll(() => {
    mkdirSync(mnt, { recursive: true });
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status === 0;
    if (!mounted) console.warn(`\n!!! SKIPPED: 'a full tmpfs keeps the previous file' needs root to mount a 64 KiB tmpfs; /dev/full covers ENOSPC on a device only\n`);
  });
  afterAll(() => {
    if (mounted) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('a full tmpfs: one line, exit 1, the previous file intact, no temporary file left', async (ctx) => {
    if (!mounted) return ctx.skip();
    const file = join(mnt, 'result.json');
    writeFileSync(file, '{"previous": true}\n');
    // fill the rest: dd stops at ENOSPC
    spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k']);
    const r = await cliAsync(...RUN, '--json', file);
    expect(r.status, describeRun(r)).toBe(1);
    expect(oneLine(r)).toMatch(/cannot write .*result\.json: ENOSPC.*previous file is intact/);
    expect(readFileSync(file, 'utf8')).toBe('{"previous": true}\n');
    expect(readdirSync(mnt).sort()).toEqual(['filler', 'result.json']);
  });
});
