// The shared-memory layout of the simulated machine: the one place that knows
// where anything lives. Every region is a run of Int32 words in one
// SharedArrayBuffer; every field is a named offset inside its record. Nothing
// outside this file computes an offset. Like the kernel's struct definitions,
// the tables below are the documentation of the machine.

export const LAYOUT_MAGIC = 0x54_4c_42_53; // "TLBS"
export const LAYOUT_VERSION = 5;

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
  ZONE_LOCK: 17, // spinlock, LOCK_WORDS long
  VIOLATIONS: 20, // violations recorded, all cpus
  ONLINE_CPUS: 21,
  NR_FILE_PAGES: 22, // page-cache slots of the file (the highest file page index + 1 any MAP_SHARED mapping may fault)
  RUN_START_US: 31, // parallel: when the last cpu passed the start barrier, in µs of the main thread's clock; cpu clocks start there
  WORKLOAD: 32, // WORKLOAD_WORDS words that workloads use to coordinate tasks, WORKLOAD_WORDS_PER_MM per mm
  WORDS: 96,
} as const;
export const WORKLOAD_WORDS = 64;
export const WORKLOAD_WORDS_PER_MM = 4;
/** The most address spaces a run may have (each mm owns WORKLOAD_WORDS_PER_MM workload words). */
export const MAX_MMS = WORKLOAD_WORDS / WORKLOAD_WORDS_PER_MM;

export const RunState = { INIT: 0, RUNNING: 1, DONE: 2, ABORTED: 3 } as const;

/** A ticket spinlock: next ticket, ticket now served, owner cpu + 1 (kept after release: the last holder, for lock_stat's bounces). It is held while NEXT != SERVING. */
export const LOCK = { NEXT: 0, SERVING: 1, OWNER: 2, WORDS: 3 } as const;

/** struct page. */
export const PAGE_FIELD = {
  STATE: 0, // PageState
  REFCOUNT: 1,
  MAPCOUNT: 2, // number of ptes that map it (the kernel's _mapcount + 1)
  MM: 3, // owning mm + 1 for anon and page-table pages
  INDEX: 4, // user vpn for anon pages, table level for page tables
  GEN: 5, // bumped on every allocation: a TLB entry names the generation it saw
  DATA: 6, // user page contents: writer task + 1 in the high bits, sequence below
  TLB_REFS: 7, // TLB entries, on all cpus, that translate to this frame
  PTL: 8, // split pte lock (page->ptl), LOCK_WORDS long, used when a pte table
  PT_SLOT: 11, // page-table storage slot + 1 when the frame is a page table
  FLAGS: 12, // PAGE_FLAG bits (page->flags as far as the model needs them)
  VERSION: 13, // data version of the contents: bumped by every user write; a page read from the file starts at the file's on-disk version
  MKCLEAN_BUSY: 14, // oracle bookkeeping: page_mkclean calls working on this page that have not finished (WRITE_AFTER_WRPROTECT)
  WORDS: 15,
} as const;

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
  GATHER_PAGES: 24, // FREE_PTE_NR frames
  WORDS: 24 + 512,
} as const;
export const TlbState = { OK: 0, LAZY: 1 } as const;

/** A TLB entry: tag is mm + 1 (0 empty), then vpn, the pte it was filled from, the frame's generation. */
export const TLB_FIELD = { TAG: 0, VPN: 1, PTE: 2, GEN: 3, WORDS: 4 } as const;
export const TLB_WAYS = 4;

/** struct mm_struct with its VMA table. */
export const MM_FIELD = {
  PGD: 0, // frame of the pgd page
  USERS: 1, // mm_users
  CPUMASK: 2, // mm_cpumask
  RSS_ANON: 3, // MM_ANONPAGES
  RSS_FILE: 4, // MM_FILEPAGES
  RSS_SWAP: 5, // MM_SWAPENTS
  NR_PTES: 6,
  MMAP_SEM: 7, // rw-semaphore, RWSEM.WORDS long
  PAGE_TABLE_LOCK: 15, // spinlock, LOCK.WORDS long
  EXITED: 18, // exit_mmap done
  WRPROTECT_BUSY: 19, // oracle bookkeeping: mprotect calls removing write permission that have not returned (WRITE_AFTER_WRPROTECT)
  VMAS: 20, // MAX_VMAS records of VMA_FIELD
} as const;
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
export const MM_WORDS = MM_FIELD.VMAS + MAX_VMAS * VMA_FIELD.WORDS;

/**
 * Sleeping locks keep a FIFO wait list of tasks, linked through
 * TASK_FIELD.WAIT_NEXT and guarded by the lock's own wait_lock spinlock.
 * WAIT_HEAD and WAIT_TAIL are task + 1, 0 when the list is empty.
 */
/** rw-semaphore (lib/rwsem-spinlock.c): activity is readers holding it, WRITER when a writer holds it. */
export const RWSEM = { ACTIVITY: 0, OWNER: 1, WAIT_LOCK: 2, WAIT_HEAD: 5, WAIT_TAIL: 6, LAST_CPU: 7, WORDS: 8, WRITER: -1 } as const;
/** struct mutex: count 1 unlocked, 0 locked, -1 locked with waiters; owner task + 1. LAST_CPU: cpu + 1 of the last acquirer (lock_stat's bounces). */
export const MUTEX = { COUNT: 0, OWNER: 1, WAIT_LOCK: 2, WAIT_HEAD: 5, WAIT_TAIL: 6, LAST_CPU: 7, WORDS: 8 } as const;

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
export const FILE_FIELD = { I_MMAP_LOCK: 0, I_MMAP_COUNT: 8, TRUNCATE_COUNT: 9, I_SIZE: 10, I_SIZE_SET: 11, TRUNCATING: 12, TREE_LOCK: 13, NR_PAGES: 16, ACCOUNT_DIRTY: 17, PAGES_WRITTEN: 18, WORDS: 19 } as const;
export const NR_FILES = 1;

/**
 * Task table. A task stays on its cpu; a cpu's runqueue is its tasks whose
 * STATE is RUNNING. PREEMPT_COUNT is thread_info->preempt_count, saved here
 * while the task is switched out. WAIT_FLAGS: bit 0 waits as a writer,
 * bit 1 the lock was handed to it.
 */
export const TASK_FIELD = { STATE: 0, CPU: 1, MM: 2, KIND: 3, WAIT_NEXT: 4, WAIT_FLAGS: 5, PREEMPT_COUNT: 6, WORDS: 8 } as const;
export const TaskState = { RUNNING: 0, SLEEPING: 1, EXITED: 2 } as const;
export const TaskKind = { USER: 0, KWORKER: 1, PROBE: 2, FLUSHER: 3 } as const;
export const WAIT_FLAG = { WRITER: 1, GRANTED: 2 } as const;

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
  ];
  const regions: Region[] = [];
  let offset = 0;
  for (const [name, words, what] of table) {
    regions.push({ name, offset, words, what });
    offset += words;
  }
  return regions;
}

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
  readonly tlbSets: number;

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
