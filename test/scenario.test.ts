// Scenario files: every example loads and runs clean for legacy and rework in
// both modes; every bad file is refused with one `file:line: field: what`
// line per problem; through the CLI a bad file or a flag that conflicts with
// the file exits 2 with that line and no stack trace.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_ARGV } from './cli-process.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInput } from '../src/machine/errors.ts';
import { loadScenario, parseScenario } from '../src/scenario/load.ts';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');

/** Short settings for the suite: built-in workloads at a small size and few rounds. */
function short(o: RunOptions): RunOptions {
  if (o.scenario) return o;
  const pages = o.pages === undefined ? 128 : Math.min(Number(o.pages), 128);
  return { ...o, pages, rounds: 2, readerAccesses: 200, duration: undefined };
}

describe('examples/', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
  it('holds a file for every built-in workload', async () => {
    const { WORKLOADS } = await import('../src/workloads/index.ts');
    const named = new Set(files.map((f) => loadScenario(join(EXAMPLES, f)).options.workload).filter(Boolean));
    for (const w of WORKLOADS) expect(named.has(w.name), `no example runs workload ${w.name}`).toBe(true);
  });
  for (const f of files) {
    for (const mode of ['deterministic', 'parallel'] as const) {
      it(`${f} runs clean for legacy and rework, ${mode}`, async () => {
        const sc = loadScenario(join(EXAMPLES, f));
        for (const variant of ['legacy', 'rework']) {
          const r = await runOnce(makeConfig({ ...short(sc.options), mode, variant, lockupMs: 10_000 }));
          const why = `${f} ${variant} ${mode}: ${r.error?.name ?? ''} ${r.error?.message ?? ''} ${r.violations[0]?.rule ?? ''} ${r.violations[0]?.detail ?? ''}`;
          expect(r.error, why).toBeNull();
          expect(r.violations, why).toEqual([]);
          expect(r.counters.ops, why).toBeGreaterThan(0);
        }
      }, 60_000);
    }
  }
});

describe('a program runs as written', () => {
  it('counts every measured operation, frees every page it mapped, and leaves rss at zero', async () => {
    const sc = parseScenario(
      'count.yaml',
      `machine: {cpus: 2}
tasks:
  - cpu: 0
    program:
      - mmap: {start: 0, pages: 100}
      - repeat:
          times: 3
          do:
            - write: {start: 0, pages: 100}
            - madvise: {start: 0, pages: 100}
      - write: {start: 0, pages: 50}
      - munmap: {start: 0, pages: 100}
  - cpu: 1
    mm: 1
    program:
      - mmap: {start: 512, pages: 10, file: true}
      - write: {start: 512, pages: 10, measure: true}
      - read: {start: 512, pages: 20}
      - exit
`,
    );
    for (const variant of ['legacy', 'rework']) {
      const r = await runOnce(makeConfig({ ...sc.options, variant, kworker: false }));
      expect(r.error).toBeNull();
      expect(r.violations).toEqual([]);
      // task 0: 3 madvise + 1 munmap; task 1, alone in its mm: the measured write + exit, which runs exit_mmap
      expect(r.counters.ops).toBe(6);
      // 300 pages by the madvises, 50 by the munmap, 10 by exit_mmap
      expect(r.counters.pagesFreed).toBe(360);
      expect(r.counters.rssAfter).toBe(0);
      // the reads past the file mapping's end segfault: 10 of them
      expect(r.totals.segfaults).toBe(10);
    }
  });
});

interface BadFile {
  name: string;
  text: string;
  /** The whole message, `file:line: field: what`. */
  message: string;
}

const BAD_FILES: BadFile[] = [
  { name: 'empty', text: '', message: 'empty.yaml:1: (file): empty; a scenario needs at least a workload or tasks' },
  { name: 'not-yaml', text: 'a: [1, 2\n', message: 'not-yaml.yaml:2: (file): not YAML: Flow sequence in block collection must be sufficiently indented and end with a ]' },
  { name: 'duplicate-key', text: 'workload: {name: munmap}\nworkload: {name: exit}\n', message: 'duplicate-key.yaml:2: (file): not YAML: Map keys must be unique' },
  { name: 'a-list', text: '- 1\n- 2\n', message: 'a-list.yaml:1: (file): a scenario is a YAML mapping (name, machine, workload or tasks, variants)' },
  { name: 'unknown-field', text: 'workload: {name: munmap}\ncolour: red\n', message: 'unknown-field.yaml:2: colour: unknown field' },
  { name: 'zero-cpus', text: 'machine:\n  cpus: 0\nworkload: {name: munmap}\n', message: 'zero-cpus.yaml:2: machine.cpus: must be at least 1' },
  { name: 'cpus-as-word', text: 'machine:\n  cpus: four\nworkload: {name: munmap}\n', message: 'cpus-as-word.yaml:2: machine.cpus: expected number, received string' },
  { name: 'unknown-preempt', text: 'machine:\n  preempt: sometimes\nworkload: {name: munmap}\n', message: 'unknown-preempt.yaml:2: machine.preempt: must be one of none, voluntary, full' },
  { name: 'alloc-fail-above-one', text: 'machine:\n  allocFail: 1.5\nworkload: {name: munmap}\n', message: 'alloc-fail-above-one.yaml:2: machine.allocFail: must be at most 1' },
  { name: 'unknown-variant', text: 'variants: [legacy, nope]\nworkload: {name: munmap}\n', message: expect.stringMatching(/^unknown-variant\.yaml:1: variants\[1\]: must be one of legacy, rework, /) as unknown as string },
  { name: 'unknown-workload', text: 'workload:\n  name: nope\n', message: expect.stringMatching(/^unknown-workload\.yaml:2: workload\.name: must be one of munmap, exit, madvise, mix/) as unknown as string },
  { name: 'negative-pages', text: 'workload:\n  name: munmap\n  pages: -5\n', message: 'negative-pages.yaml:3: workload.pages: must be at least 1' },
  { name: 'both', text: 'workload: {name: munmap}\ntasks:\n  - cpu: 0\n    program: [exit]\n', message: 'both.yaml:1: (file): give either `workload` (a built-in one) or `tasks` (programs), not both and not neither' },
  { name: 'neither', text: 'machine: {cpus: 2}\n', message: 'neither.yaml:1: (file): give either `workload` (a built-in one) or `tasks` (programs), not both and not neither' },
  { name: 'no-such-cpu', text: 'machine: {cpus: 2}\ntasks:\n  - cpu: 3\n    program: [exit]\n', message: 'no-such-cpu.yaml:3: tasks[0].cpu: cpu 3 does not exist (machine.cpus is 2)' },
  { name: 'empty-program', text: 'tasks:\n  - cpu: 0\n    program: []\n', message: 'empty-program.yaml:3: tasks[0].program: an empty program' },
  { name: 'unknown-op', text: 'tasks:\n  - cpu: 0\n    program:\n      - frobnicate: {start: 0}\n', message: 'unknown-op.yaml:4: tasks[0].program[0].frobnicate: unknown operation (known: mmap, write, read, munmap, madvise, mprotect, exec-shift, truncate, msync, fsync, reclaim, sleep, exit, repeat, barrier)' },
  { name: 'two-ops-in-one', text: 'tasks:\n  - cpu: 0\n    program:\n      - {mmap: {start: 0, pages: 1}, munmap: {start: 0, pages: 1}}\n', message: 'two-ops-in-one.yaml:4: tasks[0].program[0]: an operation is one name with its arguments, e.g. `munmap: {start: 0, pages: 64}`, or `barrier` or `exit`' },
  { name: 'unknown-argument', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 0, pages: 1, huge: true}\n', message: 'unknown-argument.yaml:4: tasks[0].program[0].mmap.huge: unknown field' },
  { name: 'wrong-type-argument', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: "zero", pages: 1}\n', message: 'wrong-type-argument.yaml:4: tasks[0].program[0].mmap.start: expected number, received string' },
  { name: 'missing-argument', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 0, pages: 4}\n      - mprotect: {start: 0, pages: 4}\n', message: 'missing-argument.yaml:5: tasks[0].program[1].mprotect.writable: missing (expected boolean)' },
  { name: 'zero-size-range', text: 'tasks:\n  - cpu: 0\n    program:\n      - munmap: {start: 0, pages: 0}\n', message: 'zero-size-range.yaml:4: tasks[0].program[0].munmap.pages: must be at least 1' },
  { name: 'outside-the-region', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 262100, pages: 100}\n', message: 'outside-the-region.yaml:4: tasks[0].program[0].mmap: range [262100, 262200) runs past the end of the 262144-page region scenarios map into' },
  { name: 'overlapping-mmaps', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 0, pages: 10}\n      - mmap: {start: 5, pages: 10}\n', message: 'overlapping-mmaps.yaml:5: tasks[0].program[1].mmap: [5, 15) overlaps the mapping [0, 10) this task made and has not unmapped' },
  { name: 'overlap-across-tasks', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 0, pages: 10}\n  - cpu: 1\n    program:\n      - mmap: {start: 5, pages: 10}\n', message: 'overlap-across-tasks.yaml:7: tasks[1].program: maps or unmaps [5, 15), which meets [0, 10) of task 0 in the same mm; tasks of one mm run at once, so the ranges they map and unmap must not overlap' },
  { name: 'mapping-remade-in-a-repeat', text: 'tasks:\n  - cpu: 0\n    program:\n      - repeat:\n          times: 2\n          do:\n            - mmap: {start: 0, pages: 10}\n', message: 'mapping-remade-in-a-repeat.yaml:7: tasks[0].program[0].repeat.do[0].mmap: [0, 10) overlaps the mapping [0, 10) this task made and has not unmapped' },
  { name: 'munmap-splits', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 0, pages: 10}\n      - munmap: {start: 0, pages: 5}\n', message: 'munmap-splits.yaml:5: tasks[0].program[1].munmap: [0, 5) splits the mapping [0, 10); only whole mappings are unmapped' },
  { name: 'mprotect-unmapped', text: 'tasks:\n  - cpu: 0\n    program:\n      - mprotect: {start: 0, pages: 4, writable: false}\n', message: 'mprotect-unmapped.yaml:4: tasks[0].program[0].mprotect: [0, 4) is not a mapping of this task' },
  { name: 'exec-shift-out-of-region', text: 'tasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 0, pages: 4}\n      - exec-shift: {start: 0, pages: 4, shift: 2}\n', message: 'exec-shift-out-of-region.yaml:5: tasks[0].program[1].exec-shift.shift: moving [0, 4) down by 2 leaves the region' },
  { name: 'too-many-mappings', text: `tasks:\n  - cpu: 0\n    program:\n${Array.from({ length: 17 }, (_, i) => `      - mmap: {start: ${i * 10}, pages: 1}\n`).join('')}`, message: 'too-many-mappings.yaml:2: tasks[0].mm: its tasks may hold 17 mappings at once, more than the 16 an mm holds' },
  { name: 'exit-not-last', text: 'tasks:\n  - cpu: 0\n    program:\n      - exit\n      - barrier\n', message: 'exit-not-last.yaml:4: tasks[0].program[0]: exit must be the last operation of a program, outside any repeat' },
  { name: 'barriers-do-not-match', text: 'tasks:\n  - cpu: 0\n    program: [barrier, barrier]\n  - cpu: 1\n    program: [barrier]\n', message: 'barriers-do-not-match.yaml:5: tasks[1].program: passes 1 barriers, but task 0 of the same mm passes 2; a barrier waits for every task of its mm' },
  { name: 'repeat-zero-times', text: 'tasks:\n  - cpu: 0\n    program:\n      - repeat: {times: 0, do: [barrier]}\n', message: 'repeat-zero-times.yaml:4: tasks[0].program[0].repeat.times: must be at least 1' },
  { name: 'too-many-operations', text: 'tasks:\n  - cpu: 0\n    program:\n      - repeat: {times: 1000000, do: [{write: {start: 0, pages: 1}}, {read: {start: 0, pages: 1}}]}\n', message: 'too-many-operations.yaml:4: tasks[0].program: runs 2000000 operations with its repeats, more than 1000000' },
  { name: 'mm-skipped', text: 'tasks:\n  - cpu: 0\n    mm: 1\n    program: [exit]\n', message: 'mm-skipped.yaml:2: tasks: mm 0 has no task; mms are numbered from 0 with none skipped' },
  { name: 'sleep-zero', text: 'tasks:\n  - cpu: 0\n    program:\n      - sleep: {ms: 0}\n', message: 'sleep-zero.yaml:4: tasks[0].program[0].sleep.ms: must be at least 1' },
  { name: 'barrier-in-a-setup', text: 'tasks:\n  - cpu: 0\n    setup:\n      - mmap: {start: 0, pages: 4}\n      - barrier\n    program: [barrier]\n', message: 'barrier-in-a-setup.yaml:5: tasks[0].setup[1]: barrier in a setup: a setup holds only mmap, write, read, mprotect, repeat (it runs alone, before every program); put it in the program' },
  { name: 'munmap-in-a-setup-repeat', text: 'tasks:\n  - cpu: 0\n    setup:\n      - repeat:\n          times: 2\n          do:\n            - mmap: {start: 0, pages: 4}\n            - munmap: {start: 0, pages: 4}\n    program: [exit]\n', message: 'munmap-in-a-setup-repeat.yaml:8: tasks[0].setup[0].repeat.do[1]: munmap in a setup: a setup holds only mmap, write, read, mprotect, repeat (it runs alone, before every program); put it in the program' },
  { name: 'measured-setup', text: 'tasks:\n  - cpu: 0\n    setup:\n      - mmap: {start: 0, pages: 4}\n      - write: {start: 0, pages: 4, measure: true}\n    program: [exit]\n', message: 'measured-setup.yaml:5: tasks[0].setup[1].write.measure: a setup is not measured; put the operation in the program' },
  { name: 'empty-setup', text: 'tasks:\n  - cpu: 0\n    setup: []\n    program: [exit]\n', message: 'empty-setup.yaml:3: tasks[0].setup: an empty setup' },
  { name: 'program-maps-over-its-setup', text: 'tasks:\n  - cpu: 0\n    setup:\n      - mmap: {start: 0, pages: 10}\n    program:\n      - mmap: {start: 5, pages: 10}\n', message: 'program-maps-over-its-setup.yaml:6: tasks[0].program[0].mmap: [5, 15) overlaps the mapping [0, 10) this task made and has not unmapped' },
  { name: 'setup-meets-another-task', text: 'tasks:\n  - cpu: 0\n    setup:\n      - mmap: {start: 0, pages: 10}\n    program: [exit]\n  - cpu: 1\n    program:\n      - mmap: {start: 5, pages: 10}\n', message: 'setup-meets-another-task.yaml:8: tasks[1].program: maps or unmaps [5, 15), which meets [0, 10) of task 0 in the same mm; tasks of one mm run at once, so the ranges they map and unmap must not overlap' },
  { name: 'bare-number', text: 'tasks:\n  - cpu: 0\n    program:\n      - 42\n', message: 'bare-number.yaml:4: tasks[0].program[0]: an operation is one name with its arguments, e.g. `munmap: {start: 0, pages: 64}`, or `barrier` or `exit`' },
];

describe('bad scenario files: every problem as file:line: field: what is wrong', () => {
  for (const c of BAD_FILES) {
    it(c.name, () => {
      let message: string | null = null;
      try {
        parseScenario(`${c.name}.yaml`, c.text);
      } catch (e) {
        expect(e).toBeInstanceOf(BadInput);
        message = (e as Error).message;
      }
      expect(message).toEqual(c.message);
    });
  }
  it('reports every problem of a file, one line each', () => {
    const text = 'machine:\n  cpus: 0\n  preempt: sometimes\nworkload: {name: munmap, pages: 0}\n';
    expect(() => parseScenario('many.yaml', text)).toThrow(
      'many.yaml:2: machine.cpus: must be at least 1\nmany.yaml:3: machine.preempt: must be one of none, voluntary, full\nmany.yaml:4: workload.pages: must be at least 1',
    );
  });
});

/** Two tasks of one mm: the second's setup writes a page it read, a write-protect fault whose flush waits for the first's cpu, which ran its setup in that mm. */
const SETUP_WAITS = `machine: {cpus: 2}
tasks:
  - cpu: 0
    setup:
      - mmap: {start: 0, pages: 4}
      - write: {start: 0, pages: 4}
    program:
      - munmap: {start: 0, pages: 4}
  - cpu: 1
    setup:
      - mmap: {start: 64, pages: 4}
      - read: {start: 64, pages: 4}
      - write: {start: 64, pages: 4}
    program:
      - munmap: {start: 64, pages: 4}
`;

describe('bad scenario input through the CLI: exit 2, the file:line: field line, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shootdown-scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const machine = 'machine:\n  cpus: 2\nworkload:\n  name: munmap\n  pages: 64\n';
  const program = 'machine: {cpus: 2}\ntasks:\n  - cpu: 0\n    program:\n      - mmap: {start: 0, pages: 8}\n      - munmap: {start: 0, pages: 8}\n';
  mkdirSync(join(dir, 'a-folder.yaml'));
  const cases: { name: string; args: () => string[]; line: string | RegExp }[] = [
    { name: 'a missing file', args: () => ['run', join(dir, 'missing.yaml')], line: /missing\.yaml: no such file$/ },
    { name: 'a folder', args: () => ['run', join(dir, 'a-folder.yaml')], line: /a-folder\.yaml: a folder, not a scenario file$/ },
    { name: 'an empty file', args: () => ['compare', file('empty.yaml', '')], line: /empty\.yaml:1: \(file\): empty; a scenario needs at least a workload or tasks$/ },
    { name: 'a task on a cpu that does not exist', args: () => ['hunt', '--seeds', '1', file('cpu.yaml', 'machine: {cpus: 1}\ntasks:\n  - cpu: 1\n    program: [exit]\n')], line: /cpu\.yaml:3: tasks\[0\]\.cpu: cpu 1 does not exist \(machine\.cpus is 1\)$/ },
    { name: '--cpus and a file that sets machine.cpus', args: () => ['run', '--cpus', '4', file('m.yaml', machine)], line: /--cpus: .*m\.yaml sets this already; drop the flag or edit the file$/ },
    { name: '--workload and a file with tasks', args: () => ['run', '--workload', 'mix', file('p.yaml', program)], line: /--workload: .*p\.yaml gives its own tasks; drop the flag$/ },
    { name: 'scale and a file with tasks', args: () => ['scale', '--cpus', '1,2', file('p2.yaml', program)], line: /p2\.yaml: its tasks are pinned to cpus; scale needs a scenario with a built-in workload$/ },
    { name: 'memory too small for the scenario', args: () => ['run', file('small.yaml', 'machine:\n  cpus: 2\n  memory: 64K\nworkload:\n  name: munmap\n  pages: 4096\n')], line: /small\.yaml:3: machine\.memory: 16 pages cannot hold workload munmap/ },
    { name: 'a setup that waits for another cpu, hunted with its setup once', args: () => ['hunt', '--variant', 'rework', '--seeds', '1', file('waits.yaml', SETUP_WAITS)], line: /waits\.yaml: task 1's setup waited for another cpu \(a SPIN step\), but a hunt runs each setup alone at boot: move that operation into the program, or hunt with --explore-setup$/ },
    { name: 'a machine too big for the host', args: () => ['run', file('huge.yaml', 'machine:\n  memory: 512G\nworkload:\n  name: munmap\n')], line: /huge\.yaml:2: machine\.memory: the machine would need \d+ MiB of shared memory, more than the 4 GiB limit$/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = spawnSync(process.execPath, [...CLI_ARGV, ...c.args()], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      const why = `exit ${r.status}\n${r.stderr}\n${r.stdout}`;
      expect(r.status, why).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, why).toHaveLength(1);
      expect(lines[0]!.startsWith('shootdown: '), why).toBe(true);
      expect(lines[0], why).toMatch(c.line);
      expect(r.stderr + r.stdout, why).not.toContain('    at ');
    }, 60_000);
  }
});
