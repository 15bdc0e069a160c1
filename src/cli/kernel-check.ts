// shootdown kernel-check: each workload and size on this host's kernel and
// on the model's variant for today's kernel, side by side, compared by the
// kernel's own tlb:tlb_flush trace point. The live side needs root, a C
// compiler, tracefs with the tlb_flush event and two cpus; without one of
// them the command says which in one line and exits 2. Tracing is put back
// as it was found, whatever happens, and a case's program is killed at its
// time limit.

import { Command } from 'commander';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BadInput } from '../machine/errors.ts';
import { writeJsonAtomic } from '../report/json.ts';
import {
  KERNEL_CHECK_SIZES,
  KERNEL_CHECK_VARIANT,
  KERNEL_CHECK_WORKLOADS,
  kernelCheckTable,
  liveEvents,
  modelEvents,
  sameEvents,
  type KernelCheckRow,
  type KernelCheckWorkload,
} from '../report/kernel-check.ts';
import { buildNative } from './native.ts';
import { interrupts, type Out } from './common.ts';

const TRACEFS_MOUNTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;
const EVENT = 'events/tlb/tlb_flush/enable';
/** Per-cpu trace buffer while the check runs: a 20,000-page munmap emits a handful of events, the rest of the host many more. */
const BUFFER_KB = 16384;
const CASE_TIMEOUT_MS = 60_000;
const MARKER_BEGIN = 'shootdown-check begin';
const MARKER_END = 'shootdown-check end';
const PAGES_MAX = 1 << 20;
const ATTEMPTS_MAX = 20;

/** tracefs's root, mounting it where it is missing (it is not mounted on every host). */
function tracefsRoot(): string {
  for (const root of TRACEFS_MOUNTS) if (existsSync(join(root, 'trace'))) return root;
  spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_MOUNTS[0]], { stdio: 'ignore' });
  if (existsSync(join(TRACEFS_MOUNTS[0], 'trace'))) return TRACEFS_MOUNTS[0];
  throw new BadInput(`kernel-check: no tracefs at ${TRACEFS_MOUNTS.join(' or ')}, and mounting it failed`);
}

function checkHost(): { root: string; program: string } {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) throw new BadInput(`kernel-check: reading the tlb:tlb_flush trace point needs root (running as uid ${uid})`);
  if (availableParallelism() < 2) throw new BadInput('kernel-check: needs two cpus (a reader on one while the other unmaps)');
  const root = tracefsRoot();
  if (!existsSync(join(root, EVENT))) throw new BadInput(`kernel-check: this kernel has no tlb:tlb_flush event (${join(root, EVENT)} is missing)`);
  const program = buildNative('kernel-check');
  if (!program) throw new BadInput('kernel-check: no C compiler (cc, gcc or clang) to build the live side with');
  return { root, program };
}

function parseList<T extends string | number>(flag: string, text: string, want: string, parse: (s: string) => T | null): T[] {
  const out = text.split(',').map((s) => {
    const v = parse(s.trim());
    if (v === null) throw new BadInput(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(s)} is not ${want}`);
    return v;
  });
  if (out.length === 0) throw new BadInput(`${flag}: empty`);
  return out;
}

/** The tracing knobs the check turns, read before and written back after. */
class Tracing {
  private readonly saved: [string, string][];
  constructor(private readonly root: string) {
    this.saved = ['tracing_on', EVENT, 'buffer_size_kb'].map((f) => [f, readFileSync(join(root, f), 'utf8').trim()]);
  }
  set(file: string, value: string): void {
    writeFileSync(join(this.root, file), value);
  }
  restore(): void {
    for (const [f, v] of this.saved) this.set(f, v.replace(/\s*\(expanded: \d+\)/, ''));
  }
}

function liveCase(root: string, tracing: Tracing, program: string, workload: KernelCheckWorkload, pages: number): ReturnType<typeof liveEvents> {
  tracing.set('tracing_on', '0');
  tracing.set('trace', '');
  tracing.set(EVENT, '1');
  tracing.set('tracing_on', '1');
  let printed: string;
  try {
    printed = execFileSync(program, [workload, String(pages), '0', '1', join(root, 'trace_marker')], { encoding: 'utf8', timeout: CASE_TIMEOUT_MS, killSignal: 'SIGKILL' });
  } finally {
    tracing.set('tracing_on', '0');
  }
  const ids = JSON.parse(printed) as { pid: number; readerTid: number };
  return liveEvents(readFileSync(join(root, 'trace'), 'utf8'), [ids.pid, ids.readerTid], MARKER_BEGIN, MARKER_END);
}

export function registerKernelCheck(program: Command, out: Out): void {
  program
    .command('kernel-check')
    .description(`munmap, MADV_DONTNEED and mprotect of N pages on this host's kernel and on the model's ${KERNEL_CHECK_VARIANT}, compared by tlb:tlb_flush events (needs root)`)
    .option('--workloads <list>', `of ${KERNEL_CHECK_WORKLOADS.join(', ')}`, KERNEL_CHECK_WORKLOADS.join(','))
    .option('--sizes <list>', 'pages per operation', KERNEL_CHECK_SIZES.join(','))
    .option('--attempts <n>', `runs of a case on the live kernel until its events equal the model's (1 to ${ATTEMPTS_MAX}): a busy host disturbs the reader`, '3')
    .option('--json <file>', 'the rows, kernel and model events per case')
    .action(async (o: Record<string, string | undefined>) => {
      const workloads = parseList('--workloads', o.workloads!, `one of ${KERNEL_CHECK_WORKLOADS.join(', ')}`, (s) => (KERNEL_CHECK_WORKLOADS as readonly string[]).includes(s) ? (s as KernelCheckWorkload) : null);
      const sizes = parseList('--sizes', o.sizes!, `a page count from 1 to ${PAGES_MAX}`, (s) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= PAGES_MAX ? Number(s) : null));
      const attemptsMax = parseList('--attempts', o.attempts!, `a count from 1 to ${ATTEMPTS_MAX}`, (s) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= ATTEMPTS_MAX ? Number(s) : null))[0]!;
      const { root, program: native } = checkHost();
      const tracing = new Tracing(root);
      const rows: KernelCheckRow[] = [];
      try {
        tracing.set('buffer_size_kb', String(BUFFER_KB));
        for (const workload of workloads) {
          for (const pages of sizes) {
            if (interrupts.signal.aborted) break;
            const model = await modelEvents({ workload, pages });
            let kernel = liveCase(root, tracing, native, workload, pages);
            let attempts = 1;
            // a busy host takes the reader's cpu away (it leaves mm_cpumask, or its vCPU is preempted and KVM flushes for it): try again
            for (; attempts < attemptsMax && !sameEvents(kernel, model) && !interrupts.signal.aborted; attempts++) kernel = liveCase(root, tracing, native, workload, pages);
            rows.push({ workload, pages, kernel, model, same: sameEvents(kernel, model), attempts });
          }
        }
      } finally {
        tracing.restore();
      }
      out(`shootdown kernel-check: kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()} against the model's ${KERNEL_CHECK_VARIANT}, reader on cpu 1, operation on cpu 0`);
      out(kernelCheckTable(rows));
      if (o.json) writeJsonAtomic(o.json, { schema: 'shootdown-kernel-check/1', variant: KERNEL_CHECK_VARIANT, rows });
      if (rows.some((r) => !r.same)) process.exitCode = 1;
    });
}
