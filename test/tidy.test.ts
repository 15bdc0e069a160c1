// House rules, checked: footguns stay in their home, and functions stay short
// enough to read. A rule that needs an exception says so here, with why.
//   - Atomics.wait blocks a thread: only sync (the home of waiting on shared
//     words) and the engine (its cpu loops and barriers) may block, every
//     such wait with a timeout beside a poison check.
//   - Math.random and Date.now in the kernel model would make a run depend on
//     the host: the model draws from the run's seed and reads ctx.now().
//   - A function longer than FUNCTION_LINES_MAX lines does too much to be
//     held beside the kernel's C.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KERNEL_MODEL = ['machine', 'stats', 'oracle', 'sync', 'cpu', 'page', 'gather', 'mm', 'workloads'];
const WAIT_HOMES = ['src/sync/', 'src/engine/', 'workers/'];
export const FUNCTION_LINES_MAX = 150;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** Code without comments and string contents, so a rule matches code only. */
function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/\/\/.*$/gm, '')
    .replace(/(['"`])(?:\\.|(?!\1)[^\\\n])*\1/g, (s) => s[0] + ' '.repeat(Math.max(0, s.length - 2)) + s[0]);
}

/** Lines of each function or method declared at the start of a line, from its header to the brace that closes it. */
export function longFunctions(text: string, max: number): string[] {
  const lines = codeOf(text).split('\n');
  const long: string[] = [];
  const header = /^(\s*)(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*(\w+)|(?:(?:private|public|static|readonly|async)\s+)*\*?(\w+)\s*\([^)]*\)[^={]*\{\s*$)/;
  for (let i = 0; i < lines.length; i++) {
    const m = header.exec(lines[i]!);
    if (!m || ['if', 'for', 'while', 'switch', 'catch', 'return'].includes(m[3] ?? '')) continue;
    const indent = m[1]!;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.startsWith(`${indent}}`)) {
        if (j - i + 1 > max) long.push(`${m[2] ?? m[3]} (line ${i + 1}): ${j - i + 1} lines`);
        break;
      }
    }
  }
  return long;
}

describe('house rules', () => {
  const all = [...sources('src'), ...sources('workers'), ...sources('scripts')];

  it('Atomics.wait only in the engine and the worker entry points', () => {
    const bad = all.filter((f) => !WAIT_HOMES.some((h) => f.startsWith(h)) && /\bAtomics\.wait(Async)?\s*\(/.test(codeOf(readFileSync(join(ROOT, f), 'utf8'))));
    expect(bad).toEqual([]);
  });

  it('no Math.random or Date.now in the kernel model', () => {
    const model = all.filter((f) => KERNEL_MODEL.some((l) => f.startsWith(`src/${l}/`)));
    expect(model.length).toBeGreaterThan(30);
    const bad = model.filter((f) => /\b(Math\.random|Date\.now)\s*\(/.test(codeOf(readFileSync(join(ROOT, f), 'utf8'))));
    expect(bad).toEqual([]);
  });

  it(`no function longer than ${FUNCTION_LINES_MAX} lines`, () => {
    const bad = all.flatMap((f) => longFunctions(readFileSync(join(ROOT, f), 'utf8'), FUNCTION_LINES_MAX).map((l) => `${f}: ${l}`));
    expect(bad).toEqual([]);
  });

  it('the rules see what they look for', () => {
    expect(codeOf("const a = 'Atomics.wait(x)'; // Atomics.wait(y)\nAtomics.wait(m, 0, 0, 1);")).toMatch(/^const a = '\s+';\s*\nAtomics\.wait\(m, 0, 0, 1\);$/);
    const body = Array.from({ length: 10 }, () => '  x++;').join('\n');
    expect(longFunctions(`export function big() {\n${body}\n}\nfunction small() {\n  return 1;\n}\n`, 5)).toEqual(['big (line 1): 12 lines']);
    expect(longFunctions(`class A {\n  *step(ctx: Kctx): Path {\n${body}\n  }\n}\n`, 5)).toEqual(['step (line 2): 12 lines']);
  });
});
