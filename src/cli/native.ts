// The host's C programs (bench/native/*.c): built with the first C compiler
// found, into bench/native/build/, from the project's own tree whatever the
// working directory.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const NATIVE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'native');
const COMPILERS = ['cc', 'gcc', 'clang'] as const;

/** The first compiler that answers --version, or null. */
export function findCompiler(): string | null {
  return COMPILERS.find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) ?? null;
}

/** Builds bench/native/NAME.c and returns the program's path; null without a compiler. */
export function buildNative(name: string): string | null {
  const cc = findCompiler();
  if (!cc) return null;
  const build = join(NATIVE_DIR, 'build');
  mkdirSync(build, { recursive: true });
  const program = join(build, name);
  execFileSync(cc, ['-O2', '-pthread', '-o', program, join(NATIVE_DIR, `${name}.c`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return program;
}
