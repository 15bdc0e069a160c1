// Result files are written atomically: a temporary file beside the target,
// then a rename, so a killed run never leaves half a JSON behind.

import { writeFileSync, renameSync, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BadInput } from '../machine/errors.ts';

/** Refuse an output path whose folder does not exist, before the run starts. */
export function checkOutputPath(flag: string, path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BadInput(`${flag} ${path}: folder ${dirname(path)} does not exist`);
}

export function writeTextAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
