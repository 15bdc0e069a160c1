// A run configuration that comes from elsewhere (a block taken from a queue,
// an artifact given to replay or shrink) is data, never trusted: it must
// have exactly the RunConfig fields with their types, a scenario program
// must pass a scenario file's checks, and the whole must be what makeConfig
// gives for the same flags, so every bound a flag has (cpus, pages, memory,
// the machine size limit) holds for it too. No field names a path or a
// module, and none may be added: unknown fields are refused.

import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { BadInput } from '../machine/errors.ts';
import type { RunConfig } from '../machine/config.ts';
import { flagsOf, makeConfig } from '../engine/configure.ts';
import { checkProgramData } from './load.ts';
import { COST_TABLE_SCHEMA } from '../machine/costs.ts';

const int = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const name = z.string().max(100);

const RUN_CONFIG_SCHEMA = z.strictObject({
  variant: name,
  workload: name,
  mode: z.enum(['deterministic', 'parallel']),
  seed: int,
  cpus: int,
  pages: int,
  preempt: z.enum(['none', 'voluntary', 'full']),
  allocFail: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('never') }),
    z.strictObject({ kind: z.literal('always') }),
    z.strictObject({ kind: z.literal('once') }),
    z.strictObject({ kind: z.literal('probability'), p: z.number().min(0).max(1) }),
  ]),
  memoryPages: int,
  tlbEntries: int,
  overlap: z.boolean(),
  readerAccesses: int,
  maxSteps: int,
  lockupMs: int,
  tasksPerCpu: int,
  mms: int,
  immapLock: z.enum(['spinlock', 'mutex']),
  probe: z.boolean(),
  kworker: z.boolean(),
  diskFile: z.boolean(),
  writeback: z.boolean(),
  latencyStats: z.boolean(),
  durationMs: int,
  rounds: int,
  strategy: z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('random') }), z.strictObject({ kind: z.literal('pct'), depth: int, steps: int })]),
  traceLimit: int,
  scenario: z.unknown(),
  crash: z.strictObject({ cpu: int, step: int }).nullable(),
  costs: COST_TABLE_SCHEMA,
  modelClocks: z.boolean(),
  setupOnce: z.boolean().default(false), // artifacts written before it ran their setup in the programs
  clockSkewUs: int,
});

/** A field added to RunConfig and not here (or the other way round) fails the typecheck, not a replay. */
type SchemaKeys = keyof z.infer<typeof RUN_CONFIG_SCHEMA>;
export const SCHEMA_COVERS_RUN_CONFIG: [Exclude<keyof RunConfig, SchemaKeys>, Exclude<SchemaKeys, keyof RunConfig>] extends [never, never] ? true : false = true;

/** `where` names the data in the one line a refusal is (`block 3 of campaign x: config.cpus: ...`). */
export function checkRunConfig(where: string, data: unknown): RunConfig {
  const parsed = RUN_CONFIG_SCHEMA.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BadInput(`${where}: config${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`);
  }
  const c = parsed.data as RunConfig;
  if (c.workload === 'scenario') c.scenario = checkProgramData(`${where}: config.scenario`, c.scenario, c.cpus);
  else if (c.scenario !== null) throw new BadInput(`${where}: config.scenario: must be null for workload ${c.workload}`);
  let again: RunConfig;
  try {
    again = makeConfig(flagsOf(c));
  } catch (e) {
    if (e instanceof BadInput) throw new BadInput(`${where}: config: ${e.message}`);
    throw e;
  }
  for (const key of Object.keys(again) as (keyof RunConfig)[]) {
    if (!isDeepStrictEqual(again[key], c[key])) throw new BadInput(`${where}: config.${key}: ${JSON.stringify(c[key]).slice(0, 80)} is not what a run of these flags has`);
  }
  return c;
}
