// Import boundaries. A layer under src/ may import only from layers earlier in
// LAYERS or from its own folder; src/cli.ts and the commands in src/cli/ may import anything under src/;
// workers/ may import only from src/engine. Relative specifiers of static
// `import ... from`, `export ... from`, side-effect `import '...'` and
// dynamic `import('...')` are checked; package specifiers are not.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const LAYERS = ['machine', 'stats', 'oracle', 'sync', 'cpu', 'page', 'gather', 'mm', 'workloads', 'engine', 'scenario', 'report', 'queue'] as const;

/** Where a path (relative to the project root, '/'-separated) sits. */
type Zone =
  | { kind: 'layer'; layer: string; rank: number }
  | { kind: 'cli' }
  | { kind: 'workers' }
  | { kind: 'src-other'; where: string }
  | { kind: 'outside'; where: string };

function zoneOf(rel: string): Zone {
  const parts = rel.split('/');
  if (parts[0] === 'src') {
    if ((parts.length === 2 && parts[1] === 'cli.ts') || (parts.length >= 3 && parts[1] === 'cli')) return { kind: 'cli' };
    if (parts.length >= 3) {
      const rank = (LAYERS as readonly string[]).indexOf(parts[1]!);
      if (rank >= 0) return { kind: 'layer', layer: parts[1]!, rank };
    }
    return { kind: 'src-other', where: rel };
  }
  if (parts[0] === 'workers' && parts.length >= 2) return { kind: 'workers' };
  return { kind: 'outside', where: rel };
}

function describeZone(z: Zone): string {
  switch (z.kind) {
    case 'layer':
      return `src/${z.layer}`;
    case 'cli':
      return 'src/cli.ts';
    case 'workers':
      return 'workers/';
    case 'src-other':
    case 'outside':
      return z.where;
  }
}

function toRel(abs: string): string {
  return relative(ROOT, abs).split(sep).join('/');
}

const STATIC_FROM = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"\n]+)['"]/gm;
const SIDE_EFFECT = /^[ \t]*import\s*['"]([^'"\n]+)['"]/gm;
const DYNAMIC = /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/^[ \t]*\/\/.*$/gm, '');
}

/** Every relative specifier the file imports or re-exports. */
function relativeSpecifiers(source: string): string[] {
  const code = stripComments(source);
  const specs: string[] = [];
  for (const re of [STATIC_FROM, SIDE_EFFECT, DYNAMIC]) {
    for (const m of code.matchAll(re)) {
      const spec = m[1]!;
      if (spec.startsWith('./') || spec.startsWith('../')) specs.push(spec);
    }
  }
  return specs;
}

/** Why `fromRel` may not import `spec`, or null when it may. */
function refusal(fromRel: string, spec: string): string | null {
  const targetRel = toRel(resolve(ROOT, dirname(fromRel), spec));
  const from = zoneOf(fromRel);
  const to = zoneOf(targetRel);
  switch (from.kind) {
    case 'layer':
      if (to.kind === 'layer' && to.rank <= from.rank) return null;
      if (to.kind === 'layer') return `src/${from.layer} may not import the later layer src/${to.layer}`;
      return `src/${from.layer} may not import ${describeZone(to)}`;
    case 'cli':
      if (to.kind === 'layer' || to.kind === 'cli' || to.kind === 'src-other') return null;
      return `src/cli.ts may import only from src/, not ${describeZone(to)}`;
    case 'workers':
      if (to.kind === 'layer' && to.layer === 'engine') return null;
      return `workers/ may import only from src/engine, not ${describeZone(to)}`;
    case 'src-other':
      return `${fromRel} is in no known layer (${LAYERS.join(', ')})`;
    case 'outside':
      return null;
  }
}

interface Violation {
  file: string;
  spec: string;
  why: string;
}

/** The boundary violations of one file, given its path relative to the root and its text. */
function checkFile(fileRel: string, source: string): Violation[] {
  const out: Violation[] = [];
  for (const spec of relativeSpecifiers(source)) {
    const why = refusal(fileRel, spec);
    if (why !== null) out.push({ file: fileRel, spec, why });
  }
  return out;
}

function tsFilesUnder(dirAbs: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dirAbs, { withFileTypes: true })) {
    const p = join(dirAbs, e.name);
    if (e.isDirectory()) out.push(...tsFilesUnder(p));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('import boundaries between layers', () => {
  it('no file under src/ or workers/ imports across a boundary', () => {
    const files = [...tsFilesUnder(join(ROOT, 'src')), ...tsFilesUnder(join(ROOT, 'workers'))].map(toRel).sort();
    expect(files.length, `scanned only ${files.length} files: ${files.join(', ')}`).toBeGreaterThan(20);

    const violations: Violation[] = [];
    let imports = 0;
    for (const f of files) {
      const source = readFileSync(join(ROOT, f), 'utf8');
      imports += relativeSpecifiers(source).length;
      violations.push(...checkFile(f, source));
    }
    // Not vacuous: the layers do import each other.
    expect(imports).toBeGreaterThan(50);
    const report = violations.map((v) => `  ${v.file}: import '${v.spec}' (${v.why})`).join('\n');
    expect(violations, `import boundary violations:\n${report}`).toEqual([]);
  });
});

describe('the boundary checker itself', () => {
  it('flags a lower layer importing a higher one', () => {
    const v = checkFile('src/machine/fake.ts', "import { x } from '../mm/x.ts';\n");
    expect(v).toHaveLength(1);
    expect(v[0]!.spec).toBe('../mm/x.ts');
    expect(v[0]!.why).toContain('src/mm');
  });

  it('sees every import form, including multi-line, type-only, re-exports, side effects and dynamic imports', () => {
    const source = [
      "import type { A } from '../engine/a.ts';",
      'import {',
      '  b,',
      '  c,',
      "} from '../report/b.ts';",
      "export { d } from '../workloads/d.ts';",
      "export * from '../engine/e.ts';",
      "import '../engine/side.ts';",
      "const m = await import('../report/dyn.ts');",
      "import { ok } from '../machine/ok.ts';",
      "import { same } from './same.ts';",
      "import { pkg } from 'commander';",
      "// import { commented } from '../engine/commented.ts';",
    ].join('\n');
    const v = checkFile('src/mm/fake.ts', source);
    expect(v.map((x) => x.spec).sort()).toEqual(
      ['../engine/a.ts', '../report/b.ts', '../workloads/d.ts', '../engine/e.ts', '../engine/side.ts', '../report/dyn.ts'].sort(),
    );
  });

  it('allows earlier layers and the own folder', () => {
    const source = "import { a } from '../machine/a.ts';\nimport { b } from '../stats/b.ts';\nimport { c } from './c.ts';\n";
    expect(checkFile('src/oracle/fake.ts', source)).toEqual([]);
  });

  it('lets src/cli.ts import anything under src/, but nothing outside', () => {
    expect(checkFile('src/cli.ts', "import { a } from './report/a.ts';\nimport { b } from './machine/b.ts';\n")).toEqual([]);
    expect(checkFile('src/cli.ts', "import { w } from '../workers/cpu.ts';\n")).toHaveLength(1);
  });

  it('lets workers/ import only src/engine', () => {
    expect(checkFile('workers/fake.ts', "import { r } from '../src/engine/cpu-loop.ts';\n")).toEqual([]);
    expect(checkFile('workers/fake.ts', "import { m } from '../src/mm/memory.ts';\n")).toHaveLength(1);
    expect(checkFile('workers/fake.ts', "import { c } from '../src/cli.ts';\n")).toHaveLength(1);
  });

  it('flags a layer importing the cli, the workers, or a folder outside the layer list', () => {
    expect(checkFile('src/report/fake.ts', "import { c } from '../cli.ts';\n")).toHaveLength(1);
    expect(checkFile('src/engine/fake.ts', "import { w } from '../../workers/cpu.ts';\n")).toHaveLength(1);
    expect(checkFile('src/engine/fake.ts', "import { n } from '../newlayer/n.ts';\n")).toHaveLength(1);
  });
});
