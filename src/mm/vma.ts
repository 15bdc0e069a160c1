// VMAs: a fixed table of [start, end) page ranges per mm. Changed only under
// mmap_sem held for write; read under mmap_sem held for read.

import { MAX_VMAS, VMA_FIELD, VMA_FLAGS } from '../machine/layout.ts';
import { BadInput } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';

export interface Vma {
  slot: number;
  start: number;
  end: number;
  flags: number;
}

export function vmas(ctx: Kctx, mm: number): Vma[] {
  const out: Vma[] = [];
  for (let slot = 0; slot < MAX_VMAS; slot++) {
    const flags = ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.FLAGS)]!;
    if (flags === 0) continue;
    out.push({ slot, start: ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.START)]!, end: ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.END)]!, flags });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** find_vma: the first vma with end > vpn. */
export function findVma(ctx: Kctx, mm: number, vpn: number): Vma | undefined {
  return vmas(ctx, mm).find((v) => v.end > vpn);
}

/** mmap of an anonymous range at a fixed place; the range must be free. */
export function insertVma(ctx: Kctx, mm: number, start: number, end: number, flags: number): Vma {
  if (!(end > start)) throw new BadInput(`mapping [${start}, ${end}) is empty`);
  for (const v of vmas(ctx, mm)) {
    if (v.start < end && start < v.end) throw new BadInput(`mapping [${start}, ${end}) overlaps [${v.start}, ${v.end})`);
  }
  for (let slot = 0; slot < MAX_VMAS; slot++) {
    if (ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.FLAGS)] !== 0) continue;
    ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.START)] = start;
    ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.END)] = end;
    ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.PGOFF)] = 0; // the caller sets a file mapping's before linking it
    Atomics.store(ctx.mem, ctx.m.vma(mm, slot, VMA_FIELD.FLAGS), flags | VMA_FLAGS.USED);
    return { slot, start, end, flags: flags | VMA_FLAGS.USED };
  }
  throw new BadInput(`mm ${mm} has no room for another mapping (at most ${MAX_VMAS})`);
}

/** detach_vmas_to_be_unmapped for one vma. */
export function detachVma(ctx: Kctx, mm: number, vma: Vma): void {
  Atomics.store(ctx.mem, ctx.m.vma(mm, vma.slot, VMA_FIELD.FLAGS), 0);
}
