// The model's fingerprint: one sha256 that differs whenever the answer a
// seed gets could differ. It covers the variant set (names and traits),
// every source file of the kernel model and of the engine that runs it
// (src/machine .. src/scenario and workers/, by path relative to the project
// and contents), the cost tables under costs/, the shared-memory layout
// version and the Node major version. It leaves out what only shows or
// carries results (the CLI, reports, the queue): two checkouts that differ
// there still answer a seed alike. The same files give the same fingerprint
// wherever the project sits, and it is computed once per process.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYOUT_VERSION } from '../machine/layout.ts';
import { VARIANTS } from '../gather/variants.ts';

/** The folders whose .ts files can change a result: the kernel model, the engine, scenarios, the worker entry points. */
export const MODEL_SOURCE_DIRS = ['src/machine', 'src/stats', 'src/oracle', 'src/sync', 'src/cpu', 'src/page', 'src/gather', 'src/mm', 'src/workloads', 'src/engine', 'src/scenario', 'workers'] as const;
/** The cost tables a run reads its defaults from. */
export const COST_TABLE_DIR = 'costs';

/** A fingerprint as it crosses the queue or sits in a file: sha256 in lower-case hex. */
export const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;
/** Hex digits of the short form printed in messages: 48 bits, enough to tell models apart by eye. */
export const FINGERPRINT_SHORT_CHARS = 12;

/** JSON with every object's keys sorted, so the same traits hash alike whatever order they were written in. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Files under `dir` of `root` whose names end in `suffix`, as '/'-separated paths relative to `root`, sorted. */
function filesUnder(root: string, dir: string, suffixes: readonly string[]): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && suffixes.some((s) => e.name.endsWith(s)))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** The fingerprint of the model whose files are under `root`, with this process's variant set, layout version and Node. */
export function fingerprintOf(root: string): string {
  const h = createHash('sha256');
  const part = (name: string, text: string | Buffer): void => {
    h.update(`${name}\0${Buffer.byteLength(text)}\0`);
    h.update(text);
  };
  part('variants', sortedJson(VARIANTS));
  part('layout', String(LAYOUT_VERSION));
  part('node', process.versions.node.split('.')[0]!);
  const files = [...MODEL_SOURCE_DIRS.flatMap((d) => filesUnder(root, d, ['.ts'])), ...filesUnder(root, COST_TABLE_DIR, ['.yaml', '.yml', '.json'])];
  for (const f of files) part(f, readFileSync(join(root, f)));
  return h.digest('hex');
}

let mine: string | null = null;

/** This process's model: the files of the project this module is in (never called inside a bundled worker thread, whose module sits elsewhere). */
export function modelFingerprint(): string {
  mine ??= fingerprintOf(fileURLToPath(new URL('../..', import.meta.url)));
  return mine;
}

/** The form printed in one-line messages. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, FINGERPRINT_SHORT_CHARS);
}
