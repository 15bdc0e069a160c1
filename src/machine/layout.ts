// The shared-memory layout of the simulated machine: the one place that knows
// where anything lives. Every region is a run of Int32 words in one
// SharedArrayBuffer; every field is a named offset inside its record. Nothing
// outside this file computes an offset. Like the kernel's struct definitions,
// the tables below are the documentation of the machine. Records that hold a
// lock are laid out by `struct`, each field after the previous one, so a lock
// that grows moves what follows it; every table is checked when this module
// loads (fields inside their record, no two overlapping).
// Model time travels beside the words it belongs to: a lock's release time,
// a flush's send time and each target's ack time, a task's wake-up time (ns,
// two words each: low and high 32 bits, written before the atomic that
// publishes them and read after the atomic that sees them); and each cpu's
// published clock horizon, a Float64 on its own cache line in `clocks`
// (element accesses of a typed array never tear, so other cpus read it
// without a lock).

export const LAYOUT_MAGIC = 0x54_4c_42_53; // "TLBS"
export const LAYOUT_VERSION = 10;

/** Int32 words in a cache line: hot words that different cpus write get lines of their own. */
export const CACHE_LINE_WORDS = 16;

/** Page-table geometry, x86-64 with 4 KiB pages. */
export const PAGE_SIZE = 4096;
export const PTRS_PER_TABLE = 512;
export const PTE_SHIFT = 9; // bits of index per level
/** User virtual page numbers stay below 2^31 so they fit Int32 arithmetic. */
export const USER_VPN_LIMIT = 2 ** 31;
export const PAGES_PER_PMD = PTRS_PER_TABLE; // 2 MiB
export const PAGES_PER_PUD = PTRS_PER_TABLE * PTRS_PER_TABLE; // 1 GiB

/**
 * A pte (and any upper-level entry) is one Int32:
 * bit 0 present, 1 write, 2 accessed, 3 dirty, bits 4..30 the frame number.
 * 0 is pte_none; frame 0 is reserved so a present entry is never 0.
 */
export const PTE = {
  PRESENT: 1 << 0,
  WRITE: 1 << 1,
  ACCESSED: 1 << 2,
  DIRTY: 1 << 3,
  FRAME_SHIFT: 4,
  FRAME_LIMIT: 1 << 27,
} as const;

export function mkPte(frame: number, flags: number): number {
  return (frame << PTE.FRAME_SHIFT) | flags;
}
export function pteFrame(pte: number): number {
  return pte >>> PTE.FRAME_SHIFT;
}
export function ptePresent(pte: number): boolean {
  return (pte & PTE.PRESENT) !== 0;
}

/** Header words. */
export const HDR = {
  MAGIC: 0,
  VERSION: 1,
  RUN_STATE: 2, // RunState
  POISON: 3, // non-zero: a worker failed, everyone stops
  STOP: 4, // non-zero: stop requested (Ctrl-C, violation limit)
  NR_CPUS: 5,
  NR_PAGES: 6,
  NR_PT_SLOTS: 7,
  NR_MMS: 8,
  NR_TASKS: 9,
  TLB_ENTRIES: 10,
  LIVE_TASKS: 11, // tasks not yet exited
  CPUS_STARTED: 12, // parallel start barrier
  CPUS_CONCURRENT_MAX: 13, // most cpus seen inside their run loop at once
  CPUS_RUNNING: 14,
  FREE_TOP: 15, // free-frame stack depth, under the zone lock
  PT_FREE_TOP: 16, // free page-table-storage stack depth, under the zone lock
  SPINNERS: 18, // bitmask of the cpus spinning on a lock (CPU_FIELD.SPIN_ON), so a release with none looks no further
  VIOLATIONS: 20, // violations recorded, all cpus
  ONLINE_CPUS: 21,
  NR_FILE_PAGES: 22, // page-cache slots of the file (the highest file page index + 1 any MAP_SHARED mapping may fault)
  WORD_EPOCH: 23, // bumped after every change of a workload word: a task in a user-space wait may act again (src/engine/clocks.ts)
  ZONE_LOCK: 24, // spinlock, LOCK.WORDS long
  TLB_FILL_SEQ: 30, // TLB fills so far, all cpus: each entry keeps the count at its fill, so an oracle can tell entries older than a system call
  TLB_FLUSH_EVENTS: 29, // tlb:tlb_flush events emitted so far, all cpus; the first TLB_FLUSH_EVENTS_MAX are kept in the tlbFlushEvents region
  RUN_START_US: 31, // parallel: when the last cpu passed the start barrier, in µs of the main thread's clock; cpu clocks start there
  WORKLOAD: 32, // WORKLOAD_WORDS words that workloads use to coordinate tasks, WORKLOAD_WORDS_PER_MM per mm
  WORDS: 96,
} as const;
export const WORKLOAD_WORDS = 64;
export const WORKLOAD_WORDS_PER_MM = 4;
/** The most address spaces a run may have (each mm owns WORKLOAD_WORDS_PER_MM workload words). */
export const MAX_MMS = WORKLOAD_WORDS / WORKLOAD_WORDS_PER_MM;

export const RunState = { INIT: 0, RUNNING: 1, DONE: 2, ABORTED: 3 } as const;

/**
 * A ticket spinlock: next ticket, ticket now served, owner cpu + 1 (kept after
 * release: the last holder, for lock_stat's bounces and the cache-line
 * transfer), and the model time of the last release (ns, two words). It is
 * held while NEXT != SERVING.
 */
export const LOCK = { NEXT: 0, SERVING: 1, OWNER: 2, RELEASE_NS: 3, WORDS: 5 } as const;

/** Words of a model time in ns (low and high 32 bits). */
export const NS_WORDS = 2;

/**
 * A record laid out field after field: each row is a name and its length in
 * words; the result maps each name to its offset, and WORDS to the total.
 */
export function struct<const N extends string>(rows: readonly (readonly [N, number])[]): Readonly<Record<N | 'WORDS', number>> {
  const out: Record<string, number> = {};
  let at = 0;
  for (const [name, words] of rows) {
    if (!(words >= 1) || name in out) throw new Error(`layout: field ${name} is repeated or has no words`);
    out[name] = at;
    at += words;
  }
  out.WORDS = at;
  return out as Record<N | 'WORDS', number>;
}

/** struct page. */
export const PAGE_FIELD = struct([
  ['STATE', 1], // PageState
  ['REFCOUNT', 1],
  ['MAPCOUNT', 1], // number of ptes that map it (the kernel's _mapcount + 1)
  ['MM', 1], // owning mm + 1 for anon and page-table pages
  ['INDEX', 1], // user vpn for anon pages, table level for page tables
  ['GEN', 1], // bumped on every allocation: a TLB entry names the generation it saw
  ['DATA', 1], // user page contents: writer task + 1 in the high bits, sequence below
  ['TLB_REFS', 1], // TLB entries, on all cpus, that translate to this frame
  ['PTL', LOCK.WORDS], // split pte lock (page->ptl), used when a pte table
  ['PT_SLOT', 1], // page-table storage slot + 1 when the frame is a page table
  ['FLAGS', 1], // PAGE_FLAG bits (page->flags as far as the model needs them)
  ['VERSION', 1], // data version of the contents: bumped by every user write; a page read from the file starts at the file's on-disk version
  ['MKCLEAN_BUSY', 1], // oracle bookkeeping: page_mkclean calls working on this page that have not finished (WRITE_AFTER_WRPROTECT)
]);

/**
 * PAGECACHE: a page of the file's page cache. Its REFCOUNT is one for the
 * page cache (until truncate removes it) plus one per pte that maps it plus
 * any transient reference (a fault's, a gather's); it is freed only when the
 * count reaches 0. INDEX is its file page index; MM is 0 (the owner is the file).
 */
export const PageState = { FREE: 0, ANON: 1, PAGETABLE: 2, BATCH: 3, RESERVED: 4, PAGECACHE: 5 } as const;
/**
 * PG_dirty: written through a mapping (set_page_dirty); truncate cancels it.
 * PG_locked: lock_page (taken by writeback, truncate and the shared fault of a
 * file with dirty accounting). TAG_DIRTY: the radix tree's PAGECACHE_TAG_DIRTY,
 * set with PG_dirty by __set_page_dirty_nobuffers under tree_lock and cleared
 * only when the page goes to writeback, so a sync finds a page whose PG_dirty
 * another writeback has just cleared.
 */
export const PAGE_FLAG = { DIRTY: 1, LOCKED: 2, TAG_DIRTY: 4 } as const;

/** Per-cpu block. */
export const CPU_FIELD = {
  PREEMPT_COUNT: 0,
  IRQS_DISABLED: 1, // nesting depth of local_irq_save
  NEED_RESCHED: 2,
  CURRENT_TASK: 3, // task + 1, 0 when idle
  ACTIVE_MM: 4, // mm + 1 loaded in CR3, 0 for swapper_pg_dir
  TLBSTATE: 5, // TlbState
  IPI_PENDING: 6, // bitmask of sender cpus whose invalidate vector is raised here
  FLUSH_MM: 7, // this cpu's sender slot: mm + 1 being flushed
  FLUSH_CPUMASK: 8, // this cpu's sender slot: targets that have not acked yet
  TLB_CURSOR: 9, // replacement cursor, per set-associative way
  FLUSH_VA: 15, // this cpu's sender slot: vpn + 1 for flush_tlb_page, 0 for TLB_FLUSH_ALL
  GATHER_NR: 10, // legacy per-cpu mmu_gathers: nr (-1 is ~0U, fast mode)
  GATHER_NEED_FLUSH: 11,
  GATHER_FULLMM: 12,
  GATHER_MM: 13, // mm + 1
  GATHER_IN_USE: 14, // get_cpu_var taken and not yet put: the gather's owner task + 1
  NR_SWITCHES: 16, // context switches on this cpu
  HEARTBEAT: 17, // parallel mode: bumped every slice and every idle wait, for the main thread's watchdog
  LOOP_DONE: 18, // parallel mode: this cpu's loop has returned
  FLUSH_SEQ: 19, // this cpu's sender slot: shootdowns sent, so a trace can name each IPI's flow
  FLUSH_SENT_NS: 20, // this cpu's sender slot: model time the IPIs were sent (NS_WORDS)
  PV_KICK: 22, // parallel mode: bumped by every pv_kick of this cpu, so a step can tell it was kicked meanwhile (src/sync/pv.ts)
  PV_WAIT_ON: 23, // parallel mode: while this cpu's thread is blocked, the word its task spins on + 1 (PV_ANY: any kick will do); 0 otherwise
  GATHER_PAGES: 24, // FREE_PTE_NR frames
  FLUSH_ACK_NS: 24 + 512, // this cpu's sender slot: per target cpu, the model time it acked (NS_WORDS each, MAX_CPU_SLOTS of them)
  SPIN_ON: 24 + 512 + 32 * 2, // the lock its task spins on + 1, 0 when it spins on none: what a release kicks (src/sync/pv.ts)
  PV_HOME: 24 + 512 + 32 * 2 + 1, // parallel mode: the home cpu + 1 of the host thread that runs this cpu (0: itself); a kick bumps the home's THREAD_KICK
  THREAD_KICK: 24 + 512 + 32 * 2 + 2, // parallel mode: bumped by every kick of a cpu this one is home to; the word its blocked thread waits on
  FLUSH_END: 24 + 512 + 32 * 2 + 3, // this cpu's sender slot (ranged designs): end vpn + 1 of flush_tlb_info, 0 for TLB_FLUSH_ALL; FLUSH_VA holds start + 1
  FLUSH_STRIDE: 24 + 512 + 32 * 2 + 4, // this cpu's sender slot: stride_shift - PAGE_SHIFT (0 for ptes, 9 for pmds, 18 for puds)
  FLUSH_FREED_TABLES: 24 + 512 + 32 * 2 + 5, // this cpu's sender slot: flush_tlb_info.freed_tables
  FLUSH_NEW_GEN: 24 + 512 + 32 * 2 + 6, // this cpu's sender slot: flush_tlb_info.new_tlb_gen
  TLB_GEN: 24 + 512 + 32 * 2 + 7, // cpu_tlbstate.ctxs[asid].tlb_gen: the loaded mm's generation this cpu's TLB has caught up to
  WORDS: 24 + 512 + 32 * 2 + 8,
} as const;
/** Cpus a sender slot has ack times for (IPI masks are 31 bits). */
export const MAX_CPU_SLOTS = 32;
/** The tlb:tlb_flush trace point's reasons (include/linux/mm_types.h, enum tlb_flush_reason). */
export const TlbFlushReason = { TASK_SWITCH: 0, REMOTE_SHOOTDOWN: 1, LOCAL_SHOOTDOWN: 2, LOCAL_MM_SHOOTDOWN: 3, REMOTE_SEND_IPI: 4, REMOTE_WRONG_CPU: 5 } as const;
export const TLB_FLUSH_REASON_NAMES = ['task switch', 'remote shootdown', 'local shootdown', 'local mm shootdown', 'remote ipi send', 'remote wrong cpu'] as const;
/** Events kept per run; those past it are counted as dropped. */
export const TLB_FLUSH_EVENTS_MAX = 4096;
export const TLB_FLUSH_EVENT_WORDS = 2;
/**
 * cpu_tlbstate.state (2.6.38) or cpu_tlbstate_shared.is_lazy (4.19 on).
 * SWITCHING is switch_mm's window between clearing is_lazy and catching up
 * with tlb_gen: a sender sees the cpu as not lazy, and the cpu runs no user
 * code until it leaves the window.
 */
export const TlbState = { OK: 0, LAZY: 1, SWITCHING: 2 } as const;

/** A TLB entry: tag is mm + 1 (0 empty), then vpn, the pte it was filled from, the frame's generation, HDR.TLB_FILL_SEQ at the fill. */
export const TLB_FIELD = { TAG: 0, VPN: 1, PTE: 2, GEN: 3, FILL_SEQ: 4, WORDS: 5 } as const;
export const TLB_WAYS = 4;

export const MAX_VMAS = 16;
/**
 * [START, END) in pages; FLAGS 0 = unused. I_MMAP is 1 while the vma is linked
 * into the file's i_mmap; it and TRUNCATE_COUNT (vm_truncate_count: the
 * truncate_count of the last unmap_mapping_range that finished the vma, or
 * -(restart vpn + 1) where one broke off in it) change only under the
 * i_mmap lock. A vma stays linked after detach until free_pgtables unlinks it.
 * PGOFF (vm_pgoff, in pages) is set before the vma is linked and never changes.
 */
export const VMA_FIELD = { START: 0, END: 1, FLAGS: 2, I_MMAP: 3, TRUNCATE_COUNT: 4, PGOFF: 5, WORDS: 6 } as const;
/**
 * FILE: a mapping of the file, linked into its i_mmap; file page = vpn - START + PGOFF (vm_pgoff).
 * Without SHARED it is MAP_PRIVATE (written pages are anonymous copies); with SHARED it is MAP_SHARED
 * and maps the page-cache pages themselves.
 */
export const VMA_FLAGS = { USED: 1, READ: 2, WRITE: 4, ANON: 8, FILE: 16, SHARED: 32 } as const;

/**
 * Sleeping locks keep a FIFO wait list of tasks, linked through
 * TASK_FIELD.WAIT_NEXT and guarded by the lock's own wait_lock spinlock.
 * WAIT_HEAD and WAIT_TAIL are task + 1, 0 when the list is empty.
 */
/** rw-semaphore (lib/rwsem-spinlock.c): activity is readers holding it, RWSEM_WRITER when a writer holds it. */
export const RWSEM = struct([['ACTIVITY', 1], ['OWNER', 1], ['WAIT_LOCK', LOCK.WORDS], ['WAIT_HEAD', 1], ['WAIT_TAIL', 1], ['LAST_CPU', 1]]);
export const RWSEM_WRITER = -1;
/** struct mutex: count 1 unlocked, 0 locked, -1 locked with waiters; owner task + 1. LAST_CPU: cpu + 1 of the last acquirer (lock_stat's bounces). */
export const MUTEX = struct([['COUNT', 1], ['OWNER', 1], ['WAIT_LOCK', LOCK.WORDS], ['WAIT_HEAD', 1], ['WAIT_TAIL', 1], ['LAST_CPU', 1]]);

/** struct mm_struct with its VMA table. */
export const MM_FIELD = struct([
  ['PGD', 1], // frame of the pgd page
  ['USERS', 1], // mm_users
  ['CPUMASK', 1], // mm_cpumask
  ['RSS_ANON', 1], // MM_ANONPAGES
  ['RSS_FILE', 1], // MM_FILEPAGES
  ['RSS_SWAP', 1], // MM_SWAPENTS
  ['NR_PTES', 1],
  ['MMAP_SEM', RWSEM.WORDS], // rw-semaphore
  ['PAGE_TABLE_LOCK', LOCK.WORDS], // spinlock
  ['EXITED', 1], // exit_mmap done
  ['WRPROTECT_BUSY', 1],
  ['TLB_GEN', 1], // mm->context.tlb_gen (4.13 on): bumped by every flush_tlb_mm_range
  ['DETACHED_PAGES', 1], // pages of vmas munmap has detached: mm->total_vm counts them until remove_vma_list
  ['TLB_FLUSH_PENDING', 1], // mm->tlb_flush_pending (99baac21e458): gathers of this mm begun and not finished // oracle bookkeeping: mprotect calls removing write permission that have not returned (WRITE_AFTER_WRPROTECT)
  ['VMAS', MAX_VMAS * VMA_FIELD.WORDS], // MAX_VMAS records of VMA_FIELD
]);
export const MM_WORDS = MM_FIELD.WORDS;

/**
 * struct address_space (with its inode's size) of the one file the workloads
 * map: its i_mmap lock (a spinlock or a mutex), the number of vmas linked into
 * i_mmap, truncate_count (under the i_mmap lock), i_size in pages (valid once
 * I_SIZE_SET is 1: until its first truncate the file is as long as any
 * mapping of it), TRUNCATING, the task + 1 inside truncate, tree_lock (a
 * spinlock taken with interrupts off) and nrpages, the pages in its page
 * cache. The page cache itself is the `pageCache` region: a frame per file
 * page index, 0 when absent, changed only under tree_lock.
 */
export const FILE_FIELD = struct([
  ['I_MMAP_LOCK', Math.max(MUTEX.WORDS, LOCK.WORDS)],
  ['I_MMAP_COUNT', 1],
  ['TRUNCATE_COUNT', 1],
  ['I_SIZE', 1],
  ['I_SIZE_SET', 1],
  ['TRUNCATING', 1],
  ['TREE_LOCK', LOCK.WORDS],
  ['NR_PAGES', 1],
  ['ACCOUNT_DIRTY', 1],
  ['PAGES_WRITTEN', 1],
]);
export const NR_FILES = 1;

/**
 * Task table. A task stays on its cpu; a cpu's runqueue is its tasks whose
 * STATE is RUNNING. PREEMPT_COUNT is thread_info->preempt_count, saved here
 * while the task is switched out. WAIT_FLAGS: bit 0 waits as a writer,
 * bit 1 the lock was handed to it.
 */
export const TASK_FIELD = struct([['STATE', 1], ['CPU', 1], ['MM', 1], ['KIND', 1], ['WAIT_NEXT', 1], ['WAIT_FLAGS', 1], ['PREEMPT_COUNT', 1], ['WAKE_NS', NS_WORDS], ['CALL_FILL_SEQ', 1]]);
export const TaskState = { RUNNING: 0, SLEEPING: 1, EXITED: 2 } as const;
// TASK_FIELD.CALL_FILL_SEQ: HDR.TLB_FILL_SEQ at the last TLB flush of the task's current unmapping system call, -1 before its first.
// TASK_FIELD.WAKE_NS: the model time of the last try_to_wake_up that found it asleep; it runs no earlier than that.
export const TaskKind = { USER: 0, KWORKER: 1, PROBE: 2, FLUSHER: 3 } as const;
export const WAIT_FLAG = { WRITER: 1, GRANTED: 2 } as const;

/** Float64 elements between two cpus' clock horizons: a cache line. */
export const CLOCK_STRIDE = CACHE_LINE_WORDS / 2;
/**
 * A cpu's horizons on its line of `clocks` (ns; src/engine/clocks.ts): how far
 * it holds running cpus back, the earliest it may act, and while its task
 * waits in user space its clock (NaN otherwise), so a task that sets a
 * workload word can make it hold at once.
 */
export const CLOCK_SLOT = { HOLD: 0, ACT: 1, USER_WAIT: 2 } as const;

/** What the machine is sized from. */
export interface LayoutSize {
  cpus: number;
  pages: number; // physical frames, frame 0 included and reserved
  ptSlots: number; // page-table storage slots
  mms: number;
  tasks: number;
  tlbEntries: number; // per cpu, a multiple of TLB_WAYS
  filePages: number; // page-cache slots of the file: the file page indices MAP_SHARED mappings may fault
}

export interface Region {
  name: string;
  offset: number; // in Int32 words
  words: number;
  what: string;
}

/** The region table. Order is the order in memory. */
export function layoutRegions(s: LayoutSize): Region[] {
  const table: [string, number, string][] = [
    ['header', HDR.WORDS, 'magic, layout version, run state, poison and stop words, sizes, zone lock, workload words'],
    ['pages', s.pages * PAGE_FIELD.WORDS, 'struct page per frame (PAGE_FIELD)'],
    ['freeStack', s.pages, 'free frames, a stack under the zone lock'],
    ['ptStore', s.ptSlots * PTRS_PER_TABLE, '512 entries per page-table page (PTE encoding)'],
    ['ptFreeStack', s.ptSlots, 'free page-table storage slots, under the zone lock'],
    ['cpus', s.cpus * CPU_FIELD.WORDS, 'per-cpu block (CPU_FIELD), legacy per-cpu mmu_gathers included'],
    ['tlb', s.cpus * s.tlbEntries * TLB_FIELD.WORDS, 'per-cpu TLB, TLB_WAYS-way set associative (TLB_FIELD)'],
    ['mms', s.mms * MM_WORDS, 'struct mm_struct with its VMA table (MM_FIELD, VMA_FIELD)'],
    ['files', NR_FILES * FILE_FIELD.WORDS, 'struct address_space with its i_mmap lock (FILE_FIELD)'],
    ['pageCache', NR_FILES * s.filePages, "the file's page cache: frame per file page index, 0 when absent, under tree_lock"],
    ['fileDisk', NR_FILES * s.filePages, "the file's on-disk data version per file page index, written by writepage"],
    ['tasks', s.tasks * TASK_FIELD.WORDS, 'task table and per-cpu runqueues (TASK_FIELD)'],
    ['clocks', s.cpus * CACHE_LINE_WORDS, "per-cpu clock horizons: Float64s (ns) on the cpu's own cache line, read by every cpu for the skew bound (CLOCK_SLOT)"],
    ['workloadNs', WORKLOAD_WORDS * 2, 'per workload word, a Float64: the model time it was last set (ns), so a task that waited for it goes on no earlier'],
    ['tlbFlushEvents', TLB_FLUSH_EVENTS_MAX * TLB_FLUSH_EVENT_WORDS, 'tlb:tlb_flush events in the order emitted: reason, pages (-1 for TLB_FLUSH_ALL)'],
  ];
  const regions: Region[] = [];
  let offset = 0;
  for (const [name, words, what] of table) {
    if (name === 'clocks') offset = Math.ceil(offset / CACHE_LINE_WORDS) * CACHE_LINE_WORDS; // Float64 and cache-line aligned; workloadNs follows, aligned too
    regions.push({ name, offset, words, what });
    offset += words;
  }
  return regions;
}

/** Store a model time (ns, an integer below 2^53) in the two words at `at`. */
export function storeNs(mem: Int32Array, at: number, ns: number): void {
  mem[at] = ns % 4294967296 | 0;
  mem[at + 1] = Math.floor(ns / 4294967296);
}

export function loadNs(mem: Int32Array, at: number): number {
  return mem[at + 1]! * 4294967296 + (mem[at]! >>> 0);
}

// The tables checked where they are defined: every field inside its record,
// none overlapping another, a lock's words inside the record that holds it.
(function checkLayout(): void {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`layout: ${what}`);
  };
  const disjoint = (table: string, rows: [string, number, number][], words: number): void => {
    const sorted = [...rows].sort((a, b) => a[1] - b[1]);
    for (let i = 0; i < sorted.length; i++) {
      const [name, at, len] = sorted[i]!;
      check(at >= 0 && at + len <= words, `${table}.${name} [${at}, ${at + len}) lies outside its ${words} words`);
      const next = sorted[i + 1];
      if (next) check(at + len <= next[1], `${table}.${name} overlaps ${table}.${next[0]}`);
    }
  };
  disjoint('HDR', [
    ['MAGIC', HDR.MAGIC, 1], ['VERSION', HDR.VERSION, 1], ['RUN_STATE', HDR.RUN_STATE, 1], ['POISON', HDR.POISON, 1], ['STOP', HDR.STOP, 1],
    ['NR_CPUS', HDR.NR_CPUS, 1], ['NR_PAGES', HDR.NR_PAGES, 1], ['NR_PT_SLOTS', HDR.NR_PT_SLOTS, 1], ['NR_MMS', HDR.NR_MMS, 1], ['NR_TASKS', HDR.NR_TASKS, 1],
    ['TLB_ENTRIES', HDR.TLB_ENTRIES, 1], ['LIVE_TASKS', HDR.LIVE_TASKS, 1], ['CPUS_STARTED', HDR.CPUS_STARTED, 1], ['CPUS_CONCURRENT_MAX', HDR.CPUS_CONCURRENT_MAX, 1],
    ['CPUS_RUNNING', HDR.CPUS_RUNNING, 1], ['FREE_TOP', HDR.FREE_TOP, 1], ['PT_FREE_TOP', HDR.PT_FREE_TOP, 1], ['SPINNERS', HDR.SPINNERS, 1], ['VIOLATIONS', HDR.VIOLATIONS, 1],
    ['ONLINE_CPUS', HDR.ONLINE_CPUS, 1], ['NR_FILE_PAGES', HDR.NR_FILE_PAGES, 1], ['WORD_EPOCH', HDR.WORD_EPOCH, 1], ['ZONE_LOCK', HDR.ZONE_LOCK, LOCK.WORDS], ['RUN_START_US', HDR.RUN_START_US, 1], ['TLB_FLUSH_EVENTS', HDR.TLB_FLUSH_EVENTS, 1],
    ['TLB_FILL_SEQ', HDR.TLB_FILL_SEQ, 1], ['WORKLOAD', HDR.WORKLOAD, WORKLOAD_WORDS],
  ], HDR.WORDS);
  disjoint('CPU_FIELD', [
    ...Object.entries(CPU_FIELD).filter(([k]) => !['WORDS', 'GATHER_PAGES', 'FLUSH_ACK_NS', 'FLUSH_SENT_NS'].includes(k)).map(([k, v]) => [k, v, 1] as [string, number, number]),
    ['FLUSH_SENT_NS', CPU_FIELD.FLUSH_SENT_NS, NS_WORDS], ['GATHER_PAGES', CPU_FIELD.GATHER_PAGES, 512], ['FLUSH_ACK_NS', CPU_FIELD.FLUSH_ACK_NS, MAX_CPU_SLOTS * NS_WORDS],
  ], CPU_FIELD.WORDS);
  check(LOCK.RELEASE_NS + NS_WORDS === LOCK.WORDS, 'LOCK.RELEASE_NS is not its last two words');
  check(VMA_FIELD.WORDS * MAX_VMAS === MM_WORDS - MM_FIELD.VMAS, 'the VMA table is not the end of struct mm_struct');
  check(WORKLOAD_WORDS_PER_MM * MAX_MMS === WORKLOAD_WORDS, 'workload words do not divide among the mms');
})();

export function layoutBytes(s: LayoutSize): number {
  const r = layoutRegions(s);
  const last = r[r.length - 1]!;
  return (last.offset + last.words) * 4;
}

/**
 * The machine: the SharedArrayBuffer and its Int32 view, with the base of
 * every region resolved once. Each worker builds its own Machine over the
 * same buffer.
 */
export class Machine {
  readonly mem: Int32Array;
  readonly size: LayoutSize;
  readonly pagesBase: number;
  readonly freeStackBase: number;
  readonly ptStoreBase: number;
  readonly ptFreeStackBase: number;
  readonly cpusBase: number;
  readonly tlbBase: number;
  readonly mmsBase: number;
  readonly filesBase: number;
  readonly pageCacheBase: number;
  readonly fileDiskBase: number;
  readonly tasksBase: number;
  readonly tlbFlushEventsBase: number;
  readonly tlbSets: number;
  /** Per-cpu clock horizons (ns), a cache line each: `clocks[cpu * CLOCK_STRIDE + CLOCK_SLOT.x]`. */
  readonly clocks: Float64Array;
  /** Per workload word (HDR.WORKLOAD + i), the model time it was last set. */
  readonly workloadNs: Float64Array;
  /**
   * Deterministic mode: the cpus (a bit each) whose view another cpu changed
   * since the engine last looked (src/sync/pv.ts). Local to this thread's
   * Machine object: parallel mode's cpus are woken instead.
   */
  changedCpus = 0;

  constructor(readonly sab: SharedArrayBuffer, size: LayoutSize) {
    this.size = size;
    this.mem = new Int32Array(sab);
    const r = Object.fromEntries(layoutRegions(size).map((x) => [x.name, x.offset]));
    this.pagesBase = r.pages!;
    this.freeStackBase = r.freeStack!;
    this.ptStoreBase = r.ptStore!;
    this.ptFreeStackBase = r.ptFreeStack!;
    this.cpusBase = r.cpus!;
    this.tlbBase = r.tlb!;
    this.mmsBase = r.mms!;
    this.filesBase = r.files!;
    this.pageCacheBase = r.pageCache!;
    this.fileDiskBase = r.fileDisk!;
    this.tasksBase = r.tasks!;
    this.tlbFlushEventsBase = r.tlbFlushEvents!;
    this.clocks = new Float64Array(sab, r.clocks! * 4, size.cpus * CLOCK_STRIDE);
    this.workloadNs = new Float64Array(sab, r.workloadNs! * 4, WORKLOAD_WORDS);
    this.tlbSets = size.tlbEntries / TLB_WAYS;
    if (this.mem.length * 4 !== layoutBytes(size)) throw new Error('machine buffer does not match its layout');
  }

  static create(size: LayoutSize): Machine {
    const m = new Machine(new SharedArrayBuffer(layoutBytes(size)), size);
    const h = m.mem;
    h[HDR.MAGIC] = LAYOUT_MAGIC;
    h[HDR.VERSION] = LAYOUT_VERSION;
    h[HDR.NR_CPUS] = size.cpus;
    h[HDR.NR_PAGES] = size.pages;
    h[HDR.NR_PT_SLOTS] = size.ptSlots;
    h[HDR.NR_MMS] = size.mms;
    h[HDR.NR_TASKS] = size.tasks;
    h[HDR.TLB_ENTRIES] = size.tlbEntries;
    h[HDR.NR_FILE_PAGES] = size.filePages;
    m.clocks.fill(NaN); // no cpu has said anything yet: it holds nobody back and waits for no word
    return m;
  }

  /** Attach to a buffer made elsewhere, checking it is the layout we expect. */
  static attach(sab: SharedArrayBuffer, size: LayoutSize): Machine {
    const m = new Machine(sab, size);
    if (m.mem[HDR.MAGIC] !== LAYOUT_MAGIC || m.mem[HDR.VERSION] !== LAYOUT_VERSION) {
      throw new Error('shared buffer is not a shootdown machine of this layout version');
    }
    return m;
  }

  page(frame: number, field: number): number {
    return this.pagesBase + frame * PAGE_FIELD.WORDS + field;
  }
  cpu(cpu: number, field: number): number {
    return this.cpusBase + cpu * CPU_FIELD.WORDS + field;
  }
  tlbEntry(cpu: number, slot: number): number {
    return this.tlbBase + (cpu * this.size.tlbEntries + slot) * TLB_FIELD.WORDS;
  }
  mm(mm: number, field: number): number {
    return this.mmsBase + mm * MM_WORDS + field;
  }
  vma(mm: number, slot: number, field: number): number {
    return this.mmsBase + mm * MM_WORDS + MM_FIELD.VMAS + slot * VMA_FIELD.WORDS + field;
  }
  file(file: number, field: number): number {
    return this.filesBase + file * FILE_FIELD.WORDS + field;
  }
  /** The page-cache slot of file page `index` (the one file's radix tree, flattened). */
  pageCacheSlot(index: number): number {
    if (!(index >= 0 && index < this.size.filePages)) throw new Error(`file page ${index} is outside the page cache's ${this.size.filePages} slots`);
    return this.pageCacheBase + index;
  }
  /** The on-disk data version of file page `index`. */
  fileDiskSlot(index: number): number {
    if (!(index >= 0 && index < this.size.filePages)) throw new Error(`file page ${index} is outside the file's ${this.size.filePages} pages`);
    return this.fileDiskBase + index;
  }
  task(task: number, field: number): number {
    return this.tasksBase + task * TASK_FIELD.WORDS + field;
  }
  /** The word holding entry `index` of the page table in `frame`. */
  ptEntry(frame: number, index: number): number {
    const slot = this.mem[this.page(frame, PAGE_FIELD.PT_SLOT)]! - 1;
    if (slot < 0) throw new Error(`frame ${frame} is not a page table`);
    return this.ptStoreBase + slot * PTRS_PER_TABLE + index;
  }
  ptSlotBase(slot: number): number {
    return this.ptStoreBase + slot * PTRS_PER_TABLE;
  }

  get poisoned(): boolean {
    return Atomics.load(this.mem, HDR.POISON) !== 0;
  }
  get stopped(): boolean {
    return Atomics.load(this.mem, HDR.STOP) !== 0 || Atomics.load(this.mem, HDR.POISON) !== 0;
  }
}
