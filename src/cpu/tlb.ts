// Per-cpu TLB in shared memory: TLB_WAYS-way set associative, tagged by mm,
// round-robin replacement within a set. Only the owning cpu fills or
// invalidates its TLB (remote invalidation happens in the IPI handler on the
// target cpu), so each frame's TLB_REFS count, kept here, is exact: it is the
// number of entries on all cpus that translate to that frame. A TAG of 0 is
// written first and the real tag last, so a reader on another cpu never
// mistakes a half-written entry for a valid one.

import { TLB_FIELD, TLB_WAYS, PAGE_FIELD, CPU_FIELD, pteFrame, type Machine } from '../machine/layout.ts';

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
      if (tag !== 0 && pteFrame(mem[e + TLB_FIELD.PTE]!) === frame) out.push({ cpu, mm: tag - 1, vpn: mem[e + TLB_FIELD.VPN]! });
    }
  }
  return out;
}

/** Every TLB entry, on any cpu, for `mm` with a vpn in [start, end). */
export function tlbEntriesInRange(m: Machine, mm: number, start: number, end: number): { cpu: number; vpn: number; pte: number; gen: number }[] {
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
      if (vpn >= start && vpn < end) out.push({ cpu, vpn, pte, gen });
    }
  }
  return out;
}
