// Scenario files: a machine, and either a built-in workload with its
// parameters or tasks with programs, and the variants to run. Every problem
// in a file is reported, each as `file:line: field: what is wrong`, and a
// file that loads is one the model can run: its tasks sit on cpus that
// exist, its mms are numbered without gaps, its ranges lie in the region
// workloads map into, mappings of one mm never overlap, munmap, mprotect and
// exec-shift cover whole mappings their own task made, an mm holds no more
// mappings than MAX_VMAS, tasks of an mm pass the same number of barriers,
// exit comes last, no program runs more than PROGRAM_OPS_MAX operations, and
// a task's setup holds only mappings and accesses (SETUP_OPS), unmeasured.

import { readFileSync, statSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { basename } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { BadInput } from '../machine/errors.ts';
import { MAX_MMS, MAX_VMAS, PAGES_PER_PUD } from '../machine/layout.ts';
import type { ScenarioOp, ScenarioProgram } from '../machine/config.ts';
import { MAX_CPUS, type RunOptions } from '../engine/configure.ts';
import { VARIANTS } from '../gather/variants.ts';
import { WORKLOADS } from '../workloads/index.ts';
import { PROGRAM_OPS_MAX, SETUP_OPS, barriersPassed, opsRun, setupAndProgram } from '../workloads/program.ts';

/** Pages a scenario may place mappings in: the region workloads map into (1 GiB). */
export const SCENARIO_REGION_PAGES = PAGES_PER_PUD;
/** Scenario files larger than this are refused unread. */
const SCENARIO_FILE_BYTES_MAX = 1024 * 1024;
const REPEAT_DEPTH_MAX = 8;

type Path = (string | number)[];

const count = (min: number, max: number) => z.number().int(`must be a whole number`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const pagesField = count(1, SCENARIO_REGION_PAGES);
const startField = count(0, SCENARIO_REGION_PAGES - 1);
const measureField = z.boolean().optional();

const machineSchema = z.strictObject({
  cpus: count(1, MAX_CPUS).optional(),
  memory: z.union([z.string(), z.number().int().positive()]).optional(),
  tlbEntries: count(1, 65536).optional(),
  preempt: z.enum(['none', 'voluntary', 'full']).optional(),
  immapLock: z.enum(['spinlock', 'mutex']).optional(),
  allocFail: z.union([z.enum(['never', 'always', 'once']), z.number().min(0, 'must be at least 0').max(1, 'must be at most 1')]).optional(),
  kworker: z.boolean().optional(),
  probe: z.boolean().optional(),
  writeback: z.boolean().optional(),
});

const workloadSchema = z.strictObject({
  name: z.enum(WORKLOADS.map((w) => w.name) as [string, ...string[]]),
  pages: count(1, 4_000_000).optional(),
  tasksPerCpu: count(1, 16).optional(),
  mms: count(1, MAX_MMS).optional(),
  rounds: count(1, 1_000_000_000).optional(),
  duration: z.string().optional(),
  overlap: z.boolean().optional(),
  readerAccesses: count(0, 1_000_000_000).optional(),
});

const scenarioSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  variants: z.array(z.enum(VARIANTS.map((v) => v.name) as [string, ...string[]])).min(1, 'must name at least one variant').optional(),
  seed: count(0, 2 ** 32 - 1).optional(),
  mode: z.enum(['deterministic', 'parallel']).optional(),
  machine: machineSchema.optional(),
  workload: workloadSchema.optional(),
  tasks: z
    .array(z.strictObject({ cpu: count(0, MAX_CPUS - 1), mm: count(0, MAX_MMS - 1).optional(), setup: z.array(z.unknown()).min(1, 'an empty setup').optional(), program: z.array(z.unknown()).min(1, 'an empty program') }))
    .min(1, 'no tasks')
    .optional(),
});

const range = { start: startField, pages: pagesField, measure: measureField };
/** The arguments of each operation, by name. */
const OP_ARGS = {
  mmap: z.strictObject({ start: startField, pages: pagesField, file: z.boolean().optional(), shared: z.boolean().optional(), measure: measureField }),
  write: z.strictObject(range),
  read: z.strictObject(range),
  munmap: z.strictObject(range),
  madvise: z.strictObject(range),
  mprotect: z.strictObject({ ...range, writable: z.boolean() }),
  'exec-shift': z.strictObject({ ...range, shift: pagesField }),
  truncate: z.strictObject({ pages: count(0, SCENARIO_REGION_PAGES), measure: measureField }),
  msync: z.strictObject(range),
  fsync: z.strictObject({ measure: measureField }),
  reclaim: z.strictObject({ pages: count(1, SCENARIO_REGION_PAGES), measure: measureField }),
  sleep: z.strictObject({ ms: count(1, 3_600_000) }),
  exit: z.strictObject({ measure: measureField }),
  repeat: z.strictObject({ times: count(1, PROGRAM_OPS_MAX), do: z.array(z.unknown()).min(1, 'nothing to repeat') }),
} as const;
type OpName = keyof typeof OP_ARGS;
const BARE_OPS = ['barrier', 'exit', 'fsync'] as const;
/** System calls under study are measured unless the file says otherwise. */
const MEASURED_BY_DEFAULT = new Set<string>(['munmap', 'madvise', 'mprotect', 'exec-shift', 'truncate', 'exit', 'msync', 'fsync', 'reclaim']);

export interface Scenario {
  file: string;
  name: string;
  variants: string[] | null;
  /** The run options the file sets (a flag given as well is a conflict). */
  options: RunOptions;
  /** Where each flag's value came from in the file, as `file:line: field`. */
  origins: Record<string, string>;
}

/** The file field each run option comes from. */
const FIELD_OF: Record<string, Path> = {
  '--cpus': ['machine', 'cpus'], '--memory': ['machine', 'memory'], '--tlb-entries': ['machine', 'tlbEntries'], '--preempt': ['machine', 'preempt'],
  '--immap-lock': ['machine', 'immapLock'], '--alloc-fail': ['machine', 'allocFail'], '--seed': ['seed'], '--mode': ['mode'],
  '--workload': ['workload', 'name'], '--pages': ['workload', 'pages'], '--tasks-per-cpu': ['workload', 'tasksPerCpu'], '--mms': ['workload', 'mms'],
  '--rounds': ['workload', 'rounds'], '--duration': ['workload', 'duration'], '--reader-accesses': ['workload', 'readerAccesses'],
};

/** A refusal of the run the file describes, told in the file's terms: `--memory 1M: ...` becomes `file:7: machine.memory: ...`. */
export function inFileTerms(scenario: Scenario, e: BadInput): BadInput {
  const m = /^(--[a-z-]+) ("[^"]*"|\S+): (.*)$/s.exec(e.message);
  const origin = m ? scenario.origins[m[1]!] : undefined;
  return origin ? new BadInput(`${origin}: ${m![3]}`) : e;
}

class Problems {
  readonly lines: string[] = [];
  constructor(
    private readonly file: string,
    /** The line a path is on; null for data that has no lines (a program taken from a queue or an artifact). */
    private readonly where: (path: Path) => number | null,
  ) {}
  add(path: Path, what: string): void {
    const field = path.length === 0 ? '(file)' : path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
    const line = this.where(path);
    this.lines.push(`${this.file}${line === null ? '' : `:${line}`}: ${field}: ${what}`);
  }
}

function zodProblems(problems: Problems, base: Path, error: z.ZodError): void {
  for (const issue of error.issues) {
    const path = [...base, ...(issue.path as Path)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.add([...path, key], 'unknown field');
      continue;
    }
    let what = issue.message;
    if (issue.code === 'invalid_type') what = what.includes('received undefined') ? `missing (expected ${issue.expected})` : `expected ${issue.expected}${what.includes('received') ? `, ${what.slice(what.indexOf('received'))}` : ''}`;
    else if (issue.code === 'invalid_value') what = `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    problems.add(path, what);
  }
}

/** One program item: `barrier`, `exit`, or a one-key map from an operation to its arguments. In a setup nothing is measured unless the file says so, which is refused (checkSetup). */
function parseOp(item: unknown, path: Path, problems: Problems, depth: number, inSetup: boolean): ScenarioOp | null {
  if (typeof item === 'string') {
    if ((BARE_OPS as readonly string[]).includes(item)) return item === 'barrier' ? { op: 'barrier' } : { op: item as 'exit' | 'fsync', measure: true };
    problems.add(path, `unknown operation ${JSON.stringify(item)} (known: ${[...Object.keys(OP_ARGS), 'barrier'].join(', ')})`);
    return null;
  }
  if (item === null || typeof item !== 'object' || Array.isArray(item) || Object.keys(item).length !== 1) {
    problems.add(path, 'an operation is one name with its arguments, e.g. `munmap: {start: 0, pages: 64}`, or `barrier` or `exit`');
    return null;
  }
  const [name, raw] = Object.entries(item)[0]!;
  if (!(name in OP_ARGS)) {
    problems.add([...path, name], `unknown operation (known: ${[...Object.keys(OP_ARGS), 'barrier'].join(', ')})`);
    return null;
  }
  const parsed = OP_ARGS[name as OpName].safeParse(raw ?? {});
  if (!parsed.success) {
    zodProblems(problems, [...path, name], parsed.error);
    return null;
  }
  const a = parsed.data as Record<string, unknown>;
  const measure = (a.measure as boolean | undefined) ?? (!inSetup && MEASURED_BY_DEFAULT.has(name));
  switch (name as OpName) {
    case 'repeat': {
      if (depth >= REPEAT_DEPTH_MAX) {
        problems.add([...path, name], `repeats nest at most ${REPEAT_DEPTH_MAX} deep`);
        return null;
      }
      const ops = parseOps(a.do as unknown[], [...path, name, 'do'], problems, depth + 1, inSetup);
      return ops && { op: 'repeat', times: a.times as number, ops };
    }
    case 'sleep':
      return { op: 'sleep', ms: a.ms as number };
    case 'exit':
      return { op: 'exit', measure };
    case 'fsync':
      return { op: 'fsync', measure };
    case 'reclaim':
      return { op: 'reclaim', pages: a.pages as number, measure };
    case 'truncate':
      return { op: 'truncate', pages: a.pages as number, measure };
    case 'mmap':
      // shared: a MAP_SHARED mapping of the file (so a file mapping whatever `file` says)
      return { op: 'mmap', start: a.start as number, pages: a.pages as number, file: (a.file as boolean | undefined) ?? false, ...(a.shared === true ? { shared: true } : {}), measure };
    case 'mprotect':
      return { op: 'mprotect', start: a.start as number, pages: a.pages as number, writable: a.writable as boolean, measure };
    case 'exec-shift':
      return { op: 'exec-shift', start: a.start as number, pages: a.pages as number, shift: a.shift as number, measure };
    default:
      return { op: name as 'write' | 'read' | 'munmap' | 'madvise' | 'msync', start: a.start as number, pages: a.pages as number, measure };
  }
}

function parseOps(items: unknown[], path: Path, problems: Problems, depth: number, inSetup = false): ScenarioOp[] | null {
  const ops = items.map((item, i) => parseOp(item, [...path, i], problems, depth, inSetup));
  return ops.every((o) => o !== null) ? (ops as ScenarioOp[]) : null;
}

interface Mapping {
  start: number;
  end: number;
}

/** One task's mappings as its program makes them: live now, ever made, and the most live at once. */
interface TaskMappings {
  live: Mapping[];
  ever: Mapping[];
  liveMax: number;
}

/**
 * Walk one task's program as it would run alone (a repeat twice, enough to
 * see a mapping made again while it still exists).
 */
function checkMappings(ops: readonly ScenarioOp[], path: Path, own: TaskMappings, problems: Problems): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const at = [...path, i];
    if (op.op === 'repeat') {
      for (let k = 0; k < Math.min(op.times, 2); k++) checkMappings(op.ops, [...at, 'repeat', 'do'], own, problems);
      continue;
    }
    if (!('start' in op)) continue;
    const at2 = [...at, op.op];
    const start = op.start;
    const end = op.start + op.pages;
    if (end > SCENARIO_REGION_PAGES) {
      problems.add(at2, `range [${start}, ${end}) runs past the end of the ${SCENARIO_REGION_PAGES}-page region scenarios map into`);
      continue;
    }
    const overlapping = own.live.filter((m) => m.start < end && start < m.end);
    if (op.op !== 'mmap' && op.op !== 'write' && op.op !== 'read') own.ever.push({ start, end });
    if (op.op === 'mmap') {
      const other = overlapping[0];
      if (other) {
        problems.add(at2, `[${start}, ${end}) overlaps the mapping [${other.start}, ${other.end}) this task made and has not unmapped`);
        continue;
      }
      own.live.push({ start, end });
      own.ever.push({ start, end });
      own.liveMax = Math.max(own.liveMax, own.live.length);
      continue;
    }
    if (op.op !== 'munmap' && op.op !== 'mprotect' && op.op !== 'exec-shift') continue;
    const split = overlapping.find((m) => m.start < start || m.end > end);
    if (split) {
      problems.add(at2, `[${start}, ${end}) splits the mapping [${split.start}, ${split.end}); only whole mappings are ${op.op === 'munmap' ? 'unmapped' : 'changed'}`);
      continue;
    }
    if (op.op === 'munmap') {
      own.live = own.live.filter((m) => !overlapping.includes(m));
    } else if (op.op === 'exec-shift') {
      const m = overlapping.length === 1 && overlapping[0]!.start === start && overlapping[0]!.end === end ? overlapping[0]! : null;
      if (!m) problems.add(at2, `[${start}, ${end}) is not one mapping of this task; exec-shift moves one whole mapping (the stack)`);
      else if (start - op.shift < 0) problems.add([...at2, 'shift'], `moving [${start}, ${end}) down by ${op.shift} leaves the region`);
      else {
        const clash = own.live.find((o) => o !== m && o.start < end - op.shift && start - op.shift < o.end);
        if (clash) problems.add([...at2, 'shift'], `the moved mapping would overlap [${clash.start}, ${clash.end})`);
        else {
          m.start -= op.shift;
          m.end -= op.shift;
          own.ever.push({ start: m.start, end: m.end });
        }
      }
    } else if (overlapping.length === 0) problems.add(at2, `[${start}, ${end}) is not a mapping of this task`);
  }
}

/** Tasks of one mm run at the same time, so no range one maps may meet a range another maps, and their mappings fit in one mm together. */
function checkMm(mine: { i: number; own: TaskMappings }[], problems: Problems): void {
  for (let a = 0; a < mine.length; a++) {
    for (let b = a + 1; b < mine.length; b++) {
      const clash = mine[a]!.own.ever.flatMap((x) => mine[b]!.own.ever.filter((y) => x.start < y.end && y.start < x.end).map((y) => [x, y] as const))[0];
      if (clash) {
        const [x, y] = clash;
        problems.add(['tasks', mine[b]!.i, 'program'], `maps or unmaps [${y.start}, ${y.end}), which meets [${x.start}, ${x.end}) of task ${mine[a]!.i} in the same mm; tasks of one mm run at once, so the ranges they map and unmap must not overlap`);
      }
    }
  }
  const live = mine.reduce((n, t) => n + t.own.liveMax, 0);
  if (live > MAX_VMAS) problems.add(['tasks', mine[0]!.i, 'mm'], `its tasks may hold ${live} mappings at once, more than the ${MAX_VMAS} an mm holds`);
}

/** A setup runs alone, before every program (at boot in a hunt): mappings and accesses only, and nothing measured. */
function checkSetup(ops: readonly ScenarioOp[], path: Path, problems: Problems): void {
  ops.forEach((op, i) => {
    if (op.op === 'repeat') checkSetup(op.ops, [...path, i, 'repeat', 'do'], problems);
    else if (!SETUP_OPS.has(op.op)) problems.add([...path, i], `${op.op} in a setup: a setup holds only ${[...SETUP_OPS].join(', ')} (it runs alone, before every program); put it in the program`);
    else if ('measure' in op && op.measure) problems.add([...path, i, op.op, 'measure'], 'a setup is not measured; put the operation in the program');
  });
}

function checkExitLast(ops: readonly ScenarioOp[], path: Path, problems: Problems, top: boolean): void {
  ops.forEach((op, i) => {
    if (op.op === 'repeat') checkExitLast(op.ops, [...path, i, 'repeat', 'do'], problems, false);
    else if (op.op === 'exit' && (!top || i !== ops.length - 1)) problems.add([...path, i], 'exit must be the last operation of a program, outside any repeat');
  });
}

function lineFinder(text: string, doc: ReturnType<typeof parseDocument>, lc: LineCounter): (path: Path) => number {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
    }
    return text.length === 0 ? 1 : 1;
  };
}

/** Read, parse and check a scenario file; every problem found is one line of the BadInput. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    if (statSync(file).size > SCENARIO_FILE_BYTES_MAX) throw new BadInput(`${file}: larger than ${SCENARIO_FILE_BYTES_MAX / 1024} KiB; not a scenario file`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof BadInput) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new BadInput(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a scenario file' : `cannot read it (${code ?? String(e)})`}`);
  }
  return parseScenario(file, text);
}

export function parseScenario(file: string, text: string): Scenario {
  if (text.trim() === '') throw new BadInput(`${file}:1: (file): empty; a scenario needs at least a workload or tasks`);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new BadInput(doc.errors.map((e) => `${file}:${lc.linePos(e.pos[0]).line}: (file): not YAML: ${e.message.split('\n')[0]}`).join('\n'));
  }
  const problems = new Problems(file, lineFinder(text, doc, lc));
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new BadInput(`${file}:1: (file): a scenario is a YAML mapping (name, machine, workload or tasks, variants)`);
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    zodProblems(problems, [], parsed.error);
    throw new BadInput(problems.lines.join('\n'));
  }
  const s = parsed.data;
  const options: RunOptions = {};
  const m = s.machine ?? {};
  if (m.cpus !== undefined) options.cpus = m.cpus;
  if (m.memory !== undefined) options.memory = String(m.memory);
  if (m.tlbEntries !== undefined) options.tlbEntries = m.tlbEntries;
  if (m.preempt !== undefined) options.preempt = m.preempt;
  if (m.immapLock !== undefined) options.immapLock = m.immapLock;
  if (m.allocFail !== undefined) options.allocFail = String(m.allocFail);
  if (m.kworker !== undefined) options.kworker = m.kworker;
  if (m.probe !== undefined) options.probe = m.probe;
  if (m.writeback !== undefined) options.writeback = m.writeback;
  if (s.seed !== undefined) options.seed = s.seed;
  if (s.mode !== undefined) options.mode = s.mode;
  if ((s.workload === undefined) === (s.tasks === undefined)) problems.add([], 'give either `workload` (a built-in one) or `tasks` (programs), not both and not neither');
  if (s.workload) {
    const w = s.workload;
    options.workload = w.name;
    if (w.pages !== undefined) options.pages = w.pages;
    if (w.tasksPerCpu !== undefined) options.tasksPerCpu = w.tasksPerCpu;
    if (w.mms !== undefined) options.mms = w.mms;
    if (w.rounds !== undefined) options.rounds = w.rounds;
    if (w.duration !== undefined) options.duration = w.duration;
    if (w.overlap !== undefined) options.overlap = w.overlap;
    if (w.readerAccesses !== undefined) options.readerAccesses = w.readerAccesses;
  }
  if (s.tasks) options.scenario = checkTasks(s.tasks, m.cpus ?? 4, s.name ?? basename(file).replace(/\.ya?ml$/, ''), problems);
  if (problems.lines.length > 0) throw new BadInput(problems.lines.join('\n'));
  const origins: Record<string, string> = {};
  const where = lineFinder(text, doc, lc);
  for (const [flag, path] of Object.entries(FIELD_OF)) if (doc.hasIn(path)) origins[flag] = `${file}:${where(path)}: ${path.join('.')}`;
  return { file, name: s.name ?? basename(file), variants: s.variants ?? null, options, origins };
}

function checkTasks(tasks: { cpu: number; mm?: number | undefined; setup?: unknown[] | undefined; program: unknown[] }[], cpus: number, name: string, problems: Problems): ScenarioProgram {
  const out: ScenarioProgram = { name, tasks: [] };
  tasks.forEach((t, i) => {
    if (t.cpu >= cpus) problems.add(['tasks', i, 'cpu'], `cpu ${t.cpu} does not exist (machine.cpus is ${cpus})`);
    const setup = t.setup === undefined ? undefined : parseOps(t.setup, ['tasks', i, 'setup'], problems, 0, true);
    const program = parseOps(t.program, ['tasks', i, 'program'], problems, 0);
    if (!program || setup === null) return;
    if (setup) checkSetup(setup, ['tasks', i, 'setup'], problems);
    checkExitLast(program, ['tasks', i, 'program'], problems, true);
    const task = { cpu: t.cpu, mm: t.mm ?? 0, ...(setup ? { setup } : {}), program };
    const n = opsRun(setupAndProgram(task));
    if (n > PROGRAM_OPS_MAX) problems.add(['tasks', i, 'program'], `runs ${n} operations with its repeats${setup ? ' and its setup' : ''}, more than ${PROGRAM_OPS_MAX}`);
    out.tasks.push(task);
  });
  if (out.tasks.length !== tasks.length) return out;
  const mms = [...new Set(out.tasks.map((t) => t.mm))].sort((a, b) => a - b);
  mms.forEach((mm, k) => {
    if (mm !== k) problems.add(['tasks'], `mm ${k} has no task; mms are numbered from 0 with none skipped`);
  });
  for (const mm of mms) {
    const mine = out.tasks.map((t, i) => ({ t, i, own: { live: [], ever: [], liveMax: 0 } as TaskMappings })).filter(({ t }) => t.mm === mm);
    for (const { t, i, own } of mine) {
      if (t.setup) checkMappings(t.setup, ['tasks', i, 'setup'], own, problems);
      checkMappings(t.program, ['tasks', i, 'program'], own, problems);
    }
    checkMm(mine, problems);
    const barriers = mine.map(({ t }) => barriersPassed(t.program));
    mine.forEach(({ i }, k) => {
      if (barriers[k] !== barriers[0]) problems.add(['tasks', i, 'program'], `passes ${barriers[k]} barriers, but task ${mine[0]!.i} of the same mm passes ${barriers[0]}; a barrier waits for every task of its mm`);
    });
  }
  return out;
}

/** A program operation back in the file's form (`{munmap: {start, pages, measure}}`), so data from elsewhere meets the file's checks; what is not an operation passes as it is, to be refused there. */
function asFileOp(op: unknown, depth: number): unknown {
  if (op === null || typeof op !== 'object' || Array.isArray(op) || depth > REPEAT_DEPTH_MAX) return op;
  const { op: name, ...args } = op as Record<string, unknown>;
  if (typeof name !== 'string') return op;
  if (name === 'barrier' && Object.keys(args).length === 0) return 'barrier';
  if (name === 'repeat') {
    const { ops, ...rest } = args;
    return { repeat: { ...rest, do: Array.isArray(ops) ? ops.map((o) => asFileOp(o, depth + 1)) : ops } };
  }
  return { [name]: args };
}

/**
 * A scenario program that did not come from a file (a queued block, an
 * artifact): the same checks as a file's tasks, and it must read back
 * exactly as given. Throws one BadInput line naming the first problem.
 */
export function checkProgramData(where: string, data: unknown, cpus: number): ScenarioProgram {
  const problems = new Problems(where, () => null);
  const ops = z.array(z.unknown()).min(1).max(PROGRAM_OPS_MAX);
  const shape = z.strictObject({ name: z.string().max(200), tasks: z.array(z.strictObject({ cpu: count(0, MAX_CPUS - 1), mm: count(0, MAX_MMS - 1), setup: ops.optional(), program: ops })).min(1).max(MAX_CPUS * 16) }).safeParse(data);
  if (!shape.success) {
    zodProblems(problems, [], shape.error);
    throw new BadInput(problems.lines[0]!);
  }
  const tasks = shape.data.tasks.map((t) => ({ cpu: t.cpu, mm: t.mm, ...(t.setup ? { setup: t.setup.map((o) => asFileOp(o, 0)) } : {}), program: t.program.map((o) => asFileOp(o, 0)) }));
  const program = checkTasks(tasks, cpus, shape.data.name, problems);
  if (problems.lines.length > 0) throw new BadInput(problems.lines[0]!);
  if (!isDeepStrictEqual(program, shape.data)) throw new BadInput(`${where}: does not read back as the program it claims to be`);
  return program;
}
