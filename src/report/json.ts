// Writing result files never harms what the path names. A regular file (or a
// path that does not exist yet) is replaced atomically: a temporary file
// beside it, fsynced, renamed over it, and the folder fsynced, so a killed
// run or a full disk leaves the previous file whole. A symlink is followed
// and its target replaced the same way, beside the target, so the link stays
// a link. A device, a FIFO or `-` (stdout) is written directly: renaming over
// /dev/null or /dev/stdout would replace the node itself. A write that fails
// (ENOSPC, EIO) is one OutputFailed line, with the temporary file removed.

import { closeSync, constants, fchmodSync, fsyncSync, lstatSync, openSync, readlinkSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BadInput } from '../machine/errors.ts';

/** A result could not be written; the message is one line naming the file and why. */
export class OutputFailed extends Error {
  override name = 'OutputFailed';
}

/** The path that means standard output. */
export const STDOUT_PATH = '-';

/** Linux follows at most 40 links in one lookup (MAXSYMLINKS). */
const SYMLINK_HOPS_MAX = 40;

function statOrNull(path: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The path a write to `path` lands on: symlinks followed hop by hop, so a dangling link names the file to create. */
export function writeTarget(path: string): string {
  let p = resolve(path);
  for (let hop = 0; hop < SYMLINK_HOPS_MAX; hop++) {
    const st = statOrNull(p, false);
    if (!st?.isSymbolicLink()) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new BadInput(`${path}: more than ${SYMLINK_HOPS_MAX} symbolic links in a row`);
}

/** Refuse an output path whose folder does not exist, or that names a folder or a socket, before the run starts. */
export function checkOutputPath(flag: string, path: string): void {
  if (path === STDOUT_PATH) return;
  const target = writeTarget(path);
  const st = statOrNull(target, true);
  if (st?.isDirectory()) throw new BadInput(`${flag} ${path}: is a folder`);
  if (st?.isSocket()) throw new BadInput(`${flag} ${path}: is a socket`);
  const dir = dirname(target);
  const dst = statOrNull(dir, true);
  if (!dst?.isDirectory()) throw new BadInput(`${flag} ${path}: folder ${dir === dirname(resolve(path)) ? dirname(path) : dir} does not exist`);
}

function failure(path: string, e: unknown, intact: boolean): OutputFailed {
  const err = e as NodeJS.ErrnoException;
  const why = err.code ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '')}` : String(e);
  return new OutputFailed(`cannot write ${path}: ${why}${intact ? '; the previous file is intact' : ''}`);
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** A FIFO opened without a reader would block for ever: open it non-blocking first, which fails at once when nobody reads. */
function openFifo(path: string, target: string): number {
  let probe: number;
  try {
    probe = openSync(target, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') throw new OutputFailed(`cannot write ${path}: a FIFO with no process reading it`);
    throw e;
  }
  try {
    // a reader is there, so a blocking open returns at once; blocking writes need no retry loop
    return openSync(target, constants.O_WRONLY);
  } finally {
    closeSync(probe);
  }
}

function writeDirect(path: string, target: string, st: Stats, bytes: Buffer): void {
  let fd: number | null = null;
  try {
    fd = st.isFIFO() ? openFifo(path, target) : openSync(target, constants.O_WRONLY);
    writeAll(fd, bytes);
  } catch (e) {
    throw e instanceof OutputFailed ? e : failure(path, e, false);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function fsyncFolder(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function replaceAtomically(path: string, target: string, previous: Stats | null, bytes: Buffer): void {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
    if (previous) fchmodSync(fd, previous.mode & 0o7777);
    writeAll(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // it was never created, or the rename took it
    }
    throw failure(path, e, previous !== null);
  }
  try {
    fsyncFolder(dirname(target));
  } catch (e) {
    throw failure(path, e, false);
  }
}

export function writeTextAtomic(path: string, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (path === STDOUT_PATH) {
    // through the stream, which Node keeps blocking for files and pipes, so it lands in order after the summary lines
    process.stdout.write(bytes);
    return;
  }
  const target = writeTarget(path);
  const st = statOrNull(target, true);
  if (st && !st.isFile()) {
    if (st.isDirectory()) throw new OutputFailed(`cannot write ${path}: is a folder`);
    writeDirect(path, target, st, bytes);
    return;
  }
  replaceAtomically(path, target, st, bytes);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** The folder beside an output file, where companion files (artifacts) go; `.` when the output is stdout, a device or a FIFO. */
export function folderBeside(path: string): string {
  if (path === STDOUT_PATH) return '.';
  const st = statOrNull(writeTarget(path), true);
  return st && !st.isFile() ? '.' : dirname(path);
}
