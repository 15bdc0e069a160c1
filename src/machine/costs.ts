// The cost model: what each modelled event costs in nanoseconds of model
// time. Each cpu's clock advances only by these costs and by the times that
// other cpus' events carry (a lock's release, an IPI's send, a wake-up), so
// no figure a run reports depends on how fast the host ran it. The defaults
// live in costs/default.yaml, each with its source; `--costs FILE` overrides
// any of them. A table is checked whole: every name known, every value an
// integer number of ns in range.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { BadInput } from './errors.ts';
import { Step, type StepKind } from './step.ts';

/** One cost per step kind, then the events charged where they happen. */
export const COST_NAMES = [
  'lockNs', 'spinNs', 'pteNs', 'freeNs', 'tlbNs', 'ipiNs', 'preemptNs', 'sleepNs', 'userNs', 'reschedNs', 'mightReschedNs', 'yieldNs',
  'cacheLineTransferNs', 'ipiDeliveryNs', 'ipiHandlerNs', 'tlbFlushAllNs', 'tlbFlushOneNs', 'pageFaultNs', 'contextSwitchNs', 'wakeupNs',
] as const;
export type CostName = (typeof COST_NAMES)[number];
export type CostTable = Record<CostName, number>;

/** The cost of a step of each kind, by Step number. */
const STEP_COST: Record<StepKind, CostName> = {
  [Step.LOCK]: 'lockNs',
  [Step.SPIN]: 'spinNs',
  [Step.PTE]: 'pteNs',
  [Step.FREE]: 'freeNs',
  [Step.TLB]: 'tlbNs',
  [Step.IPI]: 'ipiNs',
  [Step.PREEMPT]: 'preemptNs',
  [Step.SLEEP]: 'sleepNs',
  [Step.USER]: 'userNs',
  [Step.RESCHED]: 'reschedNs',
  [Step.MIGHT_RESCHED]: 'mightReschedNs',
  [Step.YIELD]: 'yieldNs',
};

/** Step costs as an array indexed by step kind, for the cpu's hot loop. */
export function stepCosts(t: CostTable): Float64Array {
  const out = new Float64Array(Object.keys(STEP_COST).length);
  for (const [kind, name] of Object.entries(STEP_COST)) out[Number(kind)] = t[name];
  return out;
}

/** A cost above this (10 ms) is a typo, not a machine. */
export const COST_NS_MAX = 10_000_000;

const COST_VALUE = z.union([z.number(), z.strictObject({ ns: z.number(), source: z.string().max(1000) })]);
const COST_FILE = z.record(z.string(), COST_VALUE);
/** A RunConfig's table: exactly the names, integer ns. */
export const COST_TABLE_SCHEMA = z.strictObject(Object.fromEntries(COST_NAMES.map((n) => [n, z.number().int().min(0).max(COST_NS_MAX)])) as Record<CostName, z.ZodNumber>);

/**
 * A cost file's contents over `base`: each known name set to an integer
 * number of ns. `where` names the file in the one line a refusal is.
 */
export function costsFrom(where: string, data: unknown, base: CostTable | null): CostTable {
  const parsed = COST_FILE.safeParse(data ?? {});
  if (!parsed.success) throw new BadInput(`${where}: must map cost names to ns (a number, or {ns, source})`);
  const out: Partial<CostTable> = { ...base };
  for (const [name, v] of Object.entries(parsed.data)) {
    if (!(COST_NAMES as readonly string[]).includes(name)) throw new BadInput(`${where}: ${name}: not a cost (known: ${COST_NAMES.join(', ')})`);
    const ns = typeof v === 'number' ? v : v.ns;
    if (!Number.isInteger(ns) || ns < 0 || ns > COST_NS_MAX) throw new BadInput(`${where}: ${name}: ${ns} must be a whole number of ns from 0 to ${COST_NS_MAX}`);
    out[name as CostName] = ns;
  }
  const missing = COST_NAMES.filter((n) => out[n] === undefined);
  if (missing.length > 0) throw new BadInput(`${where}: no cost for ${missing.join(', ')}`);
  return out as CostTable;
}

/** Read and check a cost file; every problem is one BadInput line naming the file. */
export function loadCostFile(file: string, base: CostTable | null): CostTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BadInput(`--costs ${file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    throw new BadInput(`--costs ${file}: not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return costsFrom(`--costs ${file}`, data, base);
}

let defaults: CostTable | null = null;

/** The default table, costs/default.yaml (read once, in the thread that makes configs). */
export function defaultCosts(): CostTable {
  defaults ??= loadCostFile(new URL('../../costs/default.yaml', import.meta.url).pathname, null);
  return { ...defaults };
}
