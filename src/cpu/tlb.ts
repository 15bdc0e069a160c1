// Per-cpu TLB in shared memory: TLB_WAYS-way set associative, tagged by mm,
// round-robin replacement within a set. Only the owning cpu fills or
// invalidates its TLB (remote invalidation happens in the IPI handler on the
// target cpu), so each frame's TLB_REFS count, kept here, is exact: it is the
// number of entries on all cpus that translate to that frame. A TAG of 0 is
// written first and the real tag last, so a reader on another cpu never
// mistakes a half-written entry for a valid one.

import { HDR, TLB_FIELD, TLB_WAYS, PAGE_FIELD, CPU_FIELD, MM_FIELD, TlbState, pteFrame, type Machine } from '../machine/layout.ts';

export interface TlbHit {
  slot: number; // word offset of the entry
  pte: number;
  gen: number;
}

function setBase(m: Machine, cpu: number, mm: number, vpn: number): number {
  const set = ((vpn ^ (mm * 0x9e37)) >>> 0) % m.tlbSets;
  return set * TLB_WAYS;
}

export function tlbLookup(m: Machine, cpu: number, mm: number, vpn: number): TlbHit | null {
  const mem = m.mem;
  const base = setBase(m, cpu, mm, vpn);
  for (let w = 0; w < TLB_WAYS; w++) {
    const e = m.tlbEntry(cpu, base + w);
    if (mem[e + TLB_FIELD.TAG] === mm + 1 && mem[e + TLB_FIELD.VPN] === vpn) {
      return { slot: e, pte: mem[e + TLB_FIELD.PTE]!, gen: mem[e + TLB_FIELD.GEN]! };
    }
  }
  return null;
}

function dropEntry(m: Machine, e: number): void {
  const mem = m.mem;
  if (Atomics.load(mem, e + TLB_FIELD.TAG) === 0) return;
  Atomics.store(mem, e + TLB_FIELD.TAG, 0);
  Atomics.sub(mem, m.page(pteFrame(mem[e + TLB_FIELD.PTE]!), PAGE_FIELD.TLB_REFS), 1);
}

/** Insert a translation, evicting within the set if needed. */
export function tlbFill(m: Machine, cpu: number, mm: number, vpn: number, pte: number, gen: number): void {
  const mem = m.mem;
  const base = setBase(m, cpu, mm, vpn);
  let victim = -1;
  for (let w = 0; w < TLB_WAYS; w++) {
    const e = m.tlbEntry(cpu, base + w);
    const tag = mem[e + TLB_FIELD.TAG]!;
    if (tag === mm + 1 && mem[e + TLB_FIELD.VPN] === vpn) {
      victim = e;
      break;
    }
    if (tag === 0 && victim < 0) victim = e;
  }
  if (victim < 0) {
    const cursorAt = m.cpu(cpu, CPU_FIELD.TLB_CURSOR);
    const way = mem[cursorAt]! % TLB_WAYS;
    mem[cursorAt] = way + 1;
    victim = m.tlbEntry(cpu, base + way);
  }
  dropEntry(m, victim);
  Atomics.add(mem, m.page(pteFrame(pte), PAGE_FIELD.TLB_REFS), 1);
  mem[victim + TLB_FIELD.VPN] = vpn;
  mem[victim + TLB_FIELD.PTE] = pte;
  mem[victim + TLB_FIELD.GEN] = gen;
  mem[victim + TLB_FIELD.FILL_SEQ] = Atomics.add(mem, HDR.TLB_FILL_SEQ, 1) + 1;
  Atomics.store(mem, victim + TLB_FIELD.TAG, mm + 1);
}

/** invlpg: drop this cpu's translation of one page of `mm`, if it has one. */
export function tlbFlushOne(m: Machine, cpu: number, mm: number, vpn: number): void {
  const base = setBase(m, cpu, mm, vpn);
  for (let w = 0; w < TLB_WAYS; w++) {
    const e = m.tlbEntry(cpu, base + w);
    if (m.mem[e + TLB_FIELD.TAG] === mm + 1 && m.mem[e + TLB_FIELD.VPN] === vpn) dropEntry(m, e);
  }
}

/** A CR3 reload: every user translation on this cpu is gone. */
export function tlbFlushAll(m: Machine, cpu: number): void {
  for (let e = m.tlbEntry(cpu, 0), past = m.tlbEntry(cpu + 1, 0); e < past; e += TLB_FIELD.WORDS) dropEntry(m, e);
}

/** Every cpu that holds a translation to `frame` (a slow scan, used only when a check fails). */
export function cpusHoldingFrame(m: Machine, frame: number): { cpu: number; mm: number; vpn: number }[] {
  const out: { cpu: number; mm: number; vpn: number }[] = [];
  const mem = m.mem;
  for (let cpu = 0; cpu < m.size.cpus; cpu++) {
    for (let s = 0; s < m.size.tlbEntries; s++) {
      const e = m.tlbEntry(cpu, s);
      const tag = Atomics.load(mem, e + TLB_FIELD.TAG);
      if (tag !== 0 && pteFrame(mem[e + TLB_FIELD.PTE]!) === frame && !lazyStale(m, cpu, tag - 1)) out.push({ cpu, mm: tag - 1, vpn: mem[e + TLB_FIELD.VPN]! });
    }
  }
  return out;
}

/**
 * `cpu` is lazy on `mm` (or switching back to it) and missed a flush that
 * should_flush_tlb let it skip (4.19 on): its entries for `mm` are dead,
 * since switch_mm compares tlb_gen and flushes before any user access. Its
 * paging-structure caches are not: the page walker may still use them, so
 * page tables must not be freed under it. Never true before tlb_gen, whose
 * generations stay 0.
 */
export function lazyStale(m: Machine, cpu: number, mm: number): boolean {
  const mem = m.mem;
  const state = Atomics.load(mem, m.cpu(cpu, CPU_FIELD.TLBSTATE));
  if (state === TlbState.OK || Atomics.load(mem, m.cpu(cpu, CPU_FIELD.ACTIVE_MM)) !== mm + 1) return false;
  return Atomics.load(mem, m.cpu(cpu, CPU_FIELD.TLB_GEN)) !== Atomics.load(mem, m.mm(mm, MM_FIELD.TLB_GEN));
}

/** Cpus other than `self` that may still walk `mm`'s page tables without having been told of a flush: lazy, stale and still in mm_cpumask. */
export function lazyStaleWalkers(m: Machine, mm: number, self: number): number[] {
  const out: number[] = [];
  const mask = Atomics.load(m.mem, m.mm(mm, MM_FIELD.CPUMASK));
  for (let cpu = 0; cpu < m.size.cpus; cpu++) if (cpu !== self && (mask & (1 << cpu)) !== 0 && lazyStale(m, cpu, mm)) out.push(cpu);
  return out;
}

/** Every TLB entry, on any cpu, for `mm` with a vpn in [start, end) filled by fill `filledBySeq`; entries of a lazy cpu that missed a flush are dead and not listed. */
export function tlbEntriesInRange(m: Machine, mm: number, start: number, end: number, filledBySeq = Infinity): { cpu: number; vpn: number; pte: number; gen: number }[] {
  const out: { cpu: number; vpn: number; pte: number; gen: number }[] = [];
  const mem = m.mem;
  for (let cpu = 0; cpu < m.size.cpus; cpu++) {
    for (let e = m.tlbEntry(cpu, 0), past = m.tlbEntry(cpu + 1, 0); e < past; e += TLB_FIELD.WORDS) {
      if (Atomics.load(mem, e + TLB_FIELD.TAG) !== mm + 1) continue;
      const vpn = mem[e + TLB_FIELD.VPN]!;
      const pte = mem[e + TLB_FIELD.PTE]!;
      const gen = mem[e + TLB_FIELD.GEN]!;
      // the entry may have been refilled while we read it: only a stable read counts
      if (Atomics.load(mem, e + TLB_FIELD.TAG) !== mm + 1 || mem[e + TLB_FIELD.VPN] !== vpn) continue;
      if (vpn >= start && vpn < end && mem[e + TLB_FIELD.FILL_SEQ]! <= filledBySeq && !lazyStale(m, cpu, mm)) out.push({ cpu, vpn, pte, gen });
    }
  }
  return out;
}
