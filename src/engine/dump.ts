// The state of every cpu, read from shared memory, for a soft lockup or a
// hung task report: the current task, preempt_count, interrupts, need_resched,
// the loaded mm, pending IPIs, the sender slot's unacked targets, and the
// locks each cpu holds. It reads without locks: a report, not a snapshot.

import { CPU_FIELD, FILE_FIELD, HDR, LOCK, MM_FIELD, MUTEX, PAGE_FIELD, PageState, RWSEM, RWSEM_WRITER, TASK_FIELD, TaskState, TlbState, type Machine } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { spinIsLocked } from '../sync/spinlock.ts';

function bits(mask: number): string {
  const out: number[] = [];
  for (let i = 0; i < 31; i++) if (mask & (1 << i)) out.push(i);
  return out.length ? out.join(',') : '-';
}

/** Spinlocks held, by owner cpu. */
function heldSpinlocks(m: Machine, config: RunConfig): Map<number, string[]> {
  const mem = m.mem;
  const held = new Map<number, string[]>();
  const note = (word: number, name: string): void => {
    const owner = Atomics.load(mem, word + LOCK.OWNER);
    if (owner > 0 && spinIsLocked(mem, word)) held.set(owner - 1, [...(held.get(owner - 1) ?? []), name]);
  };
  note(HDR.ZONE_LOCK, 'zone->lock');
  for (let mm = 0; mm < m.size.mms; mm++) {
    note(m.mm(mm, MM_FIELD.PAGE_TABLE_LOCK), `mm ${mm} page_table_lock`);
    note(m.mm(mm, MM_FIELD.MMAP_SEM + RWSEM.WAIT_LOCK), `mm ${mm} mmap_sem.wait_lock`);
  }
  if (config.immapLock === 'spinlock') note(m.file(0, FILE_FIELD.I_MMAP_LOCK), 'i_mmap_lock');
  else note(m.file(0, FILE_FIELD.I_MMAP_LOCK + MUTEX.WAIT_LOCK), 'i_mmap_mutex.wait_lock');
  note(m.file(0, FILE_FIELD.TREE_LOCK), 'tree_lock');
  for (let f = 0; f < m.size.pages; f++) {
    if (Atomics.load(mem, m.page(f, PAGE_FIELD.STATE)) === PageState.PAGETABLE) note(m.page(f, PAGE_FIELD.PTL), `pte lock of frame ${f}`);
  }
  return held;
}

/** Sleeping locks held, by owner task. */
function heldSleepingLocks(m: Machine, config: RunConfig): Map<number, string[]> {
  const mem = m.mem;
  const held = new Map<number, string[]>();
  const note = (task: number, name: string): void => {
    if (task >= 0) held.set(task, [...(held.get(task) ?? []), name]);
  };
  for (let mm = 0; mm < m.size.mms; mm++) {
    const sem = m.mm(mm, MM_FIELD.MMAP_SEM);
    if (mem[sem + RWSEM.ACTIVITY] === RWSEM_WRITER) note(mem[sem + RWSEM.OWNER]! - 1, `mm ${mm} mmap_sem (write)`);
  }
  if (config.immapLock === 'mutex') note(mem[m.file(0, FILE_FIELD.I_MMAP_LOCK + MUTEX.OWNER)]! - 1, 'i_mmap_mutex');
  return held;
}

export function cpuStateDump(m: Machine, config: RunConfig): string[] {
  const mem = m.mem;
  const spin = heldSpinlocks(m, config);
  const sleeping = heldSleepingLocks(m, config);
  const lines: string[] = [];
  for (let cpu = 0; cpu < m.size.cpus; cpu++) {
    const f = (field: number): number => Atomics.load(mem, m.cpu(cpu, field));
    const task = f(CPU_FIELD.CURRENT_TASK) - 1;
    const locks = [...(spin.get(cpu) ?? []), ...(task >= 0 ? (sleeping.get(task) ?? []) : [])];
    lines.push(
      `cpu ${cpu}: task ${task < 0 ? 'idle' : task}, preempt_count ${f(CPU_FIELD.PREEMPT_COUNT)}, irqs ${f(CPU_FIELD.IRQS_DISABLED) ? 'off' : 'on'}, need_resched ${f(CPU_FIELD.NEED_RESCHED)}, ` +
        `active_mm ${f(CPU_FIELD.ACTIVE_MM) - 1}${f(CPU_FIELD.TLBSTATE) === TlbState.LAZY ? ' (lazy)' : ''}, IPIs pending from ${bits(f(CPU_FIELD.IPI_PENDING))}, ` +
        `waiting for acks from ${bits(f(CPU_FIELD.FLUSH_CPUMASK))}, holds ${locks.length ? locks.join('; ') : 'nothing'}`,
    );
  }
  const asleep: string[] = [];
  for (let t = 0; t < m.size.tasks; t++) {
    if (Atomics.load(mem, m.task(t, TASK_FIELD.STATE)) !== TaskState.SLEEPING) continue;
    const held = sleeping.get(t);
    asleep.push(`${t}${held ? ` (holds ${held.join('; ')})` : ''}`);
  }
  if (asleep.length) lines.push(`tasks asleep: ${asleep.join(', ')}`);
  return lines;
}
