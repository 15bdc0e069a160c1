// src/machine/errors.ts
var BadInput = class extends Error {
  name = "BadInput";
};
var ModelAssert = class extends Error {
  constructor(what, detail) {
    super(`${what}: ${detail}`);
    this.what = what;
  }
  what;
  name = "ModelAssert";
};
var SoftLockup = class extends Error {
  constructor(cpu, where, detail) {
    super(`soft lockup on cpu ${cpu} in ${where}: ${detail}`);
    this.cpu = cpu;
    this.where = where;
  }
  cpu;
  where;
  name = "SoftLockup";
};
var Poisoned = class extends Error {
  name = "Poisoned";
};
var OutOfMemory = class extends Error {
  name = "OutOfMemory";
};
function modelAssert(cond, what, detail) {
  if (!cond) throw new ModelAssert(what, detail());
}

// src/machine/layout.ts
var LAYOUT_MAGIC = 1414283859;
var LAYOUT_VERSION = 7;
var CACHE_LINE_WORDS = 16;
var PAGE_SIZE = 4096;
var PTRS_PER_TABLE = 512;
var USER_VPN_LIMIT = 2 ** 31;
var PAGES_PER_PMD = PTRS_PER_TABLE;
var PAGES_PER_PUD = PTRS_PER_TABLE * PTRS_PER_TABLE;
var PTE = {
  PRESENT: 1 << 0,
  WRITE: 1 << 1,
  ACCESSED: 1 << 2,
  DIRTY: 1 << 3,
  FRAME_SHIFT: 4,
  FRAME_LIMIT: 1 << 27
};
function mkPte(frame, flags) {
  return frame << PTE.FRAME_SHIFT | flags;
}
function pteFrame(pte) {
  return pte >>> PTE.FRAME_SHIFT;
}
function ptePresent(pte) {
  return (pte & PTE.PRESENT) !== 0;
}
var HDR = {
  MAGIC: 0,
  VERSION: 1,
  RUN_STATE: 2,
  // RunState
  POISON: 3,
  // non-zero: a worker failed, everyone stops
  STOP: 4,
  // non-zero: stop requested (Ctrl-C, violation limit)
  NR_CPUS: 5,
  NR_PAGES: 6,
  NR_PT_SLOTS: 7,
  NR_MMS: 8,
  NR_TASKS: 9,
  TLB_ENTRIES: 10,
  LIVE_TASKS: 11,
  // tasks not yet exited
  CPUS_STARTED: 12,
  // parallel start barrier
  CPUS_CONCURRENT_MAX: 13,
  // most cpus seen inside their run loop at once
  CPUS_RUNNING: 14,
  FREE_TOP: 15,
  // free-frame stack depth, under the zone lock
  PT_FREE_TOP: 16,
  // free page-table-storage stack depth, under the zone lock
  SPINNERS: 18,
  // bitmask of the cpus spinning on a lock (CPU_FIELD.SPIN_ON), so a release with none looks no further
  VIOLATIONS: 20,
  // violations recorded, all cpus
  ONLINE_CPUS: 21,
  NR_FILE_PAGES: 22,
  // page-cache slots of the file (the highest file page index + 1 any MAP_SHARED mapping may fault)
  WORD_EPOCH: 23,
  // bumped after every change of a workload word: a task in a user-space wait may act again (src/engine/clocks.ts)
  ZONE_LOCK: 24,
  // spinlock, LOCK.WORDS long
  RUN_START_US: 31,
  // parallel: when the last cpu passed the start barrier, in µs of the main thread's clock; cpu clocks start there
  WORKLOAD: 32,
  // WORKLOAD_WORDS words that workloads use to coordinate tasks, WORKLOAD_WORDS_PER_MM per mm
  WORDS: 96
};
var WORKLOAD_WORDS = 64;
var WORKLOAD_WORDS_PER_MM = 4;
var MAX_MMS = WORKLOAD_WORDS / WORKLOAD_WORDS_PER_MM;
var RunState = { INIT: 0, RUNNING: 1, DONE: 2, ABORTED: 3 };
var LOCK = { NEXT: 0, SERVING: 1, OWNER: 2, RELEASE_NS: 3, WORDS: 5 };
var NS_WORDS = 2;
function struct(rows) {
  const out = {};
  let at = 0;
  for (const [name, words] of rows) {
    if (!(words >= 1) || name in out) throw new Error(`layout: field ${name} is repeated or has no words`);
    out[name] = at;
    at += words;
  }
  out.WORDS = at;
  return out;
}
var PAGE_FIELD = struct([
  ["STATE", 1],
  // PageState
  ["REFCOUNT", 1],
  ["MAPCOUNT", 1],
  // number of ptes that map it (the kernel's _mapcount + 1)
  ["MM", 1],
  // owning mm + 1 for anon and page-table pages
  ["INDEX", 1],
  // user vpn for anon pages, table level for page tables
  ["GEN", 1],
  // bumped on every allocation: a TLB entry names the generation it saw
  ["DATA", 1],
  // user page contents: writer task + 1 in the high bits, sequence below
  ["TLB_REFS", 1],
  // TLB entries, on all cpus, that translate to this frame
  ["PTL", LOCK.WORDS],
  // split pte lock (page->ptl), used when a pte table
  ["PT_SLOT", 1],
  // page-table storage slot + 1 when the frame is a page table
  ["FLAGS", 1],
  // PAGE_FLAG bits (page->flags as far as the model needs them)
  ["VERSION", 1],
  // data version of the contents: bumped by every user write; a page read from the file starts at the file's on-disk version
  ["MKCLEAN_BUSY", 1]
  // oracle bookkeeping: page_mkclean calls working on this page that have not finished (WRITE_AFTER_WRPROTECT)
]);
var PageState = { FREE: 0, ANON: 1, PAGETABLE: 2, BATCH: 3, RESERVED: 4, PAGECACHE: 5 };
var PAGE_FLAG = { DIRTY: 1, LOCKED: 2, TAG_DIRTY: 4 };
var CPU_FIELD = {
  PREEMPT_COUNT: 0,
  IRQS_DISABLED: 1,
  // nesting depth of local_irq_save
  NEED_RESCHED: 2,
  CURRENT_TASK: 3,
  // task + 1, 0 when idle
  ACTIVE_MM: 4,
  // mm + 1 loaded in CR3, 0 for swapper_pg_dir
  TLBSTATE: 5,
  // TlbState
  IPI_PENDING: 6,
  // bitmask of sender cpus whose invalidate vector is raised here
  FLUSH_MM: 7,
  // this cpu's sender slot: mm + 1 being flushed
  FLUSH_CPUMASK: 8,
  // this cpu's sender slot: targets that have not acked yet
  TLB_CURSOR: 9,
  // replacement cursor, per set-associative way
  FLUSH_VA: 15,
  // this cpu's sender slot: vpn + 1 for flush_tlb_page, 0 for TLB_FLUSH_ALL
  GATHER_NR: 10,
  // legacy per-cpu mmu_gathers: nr (-1 is ~0U, fast mode)
  GATHER_NEED_FLUSH: 11,
  GATHER_FULLMM: 12,
  GATHER_MM: 13,
  // mm + 1
  GATHER_IN_USE: 14,
  // get_cpu_var taken and not yet put: the gather's owner task + 1
  NR_SWITCHES: 16,
  // context switches on this cpu
  HEARTBEAT: 17,
  // parallel mode: bumped every slice and every idle wait, for the main thread's watchdog
  LOOP_DONE: 18,
  // parallel mode: this cpu's loop has returned
  FLUSH_SEQ: 19,
  // this cpu's sender slot: shootdowns sent, so a trace can name each IPI's flow
  FLUSH_SENT_NS: 20,
  // this cpu's sender slot: model time the IPIs were sent (NS_WORDS)
  PV_KICK: 22,
  // parallel mode: bumped by pv_kick; the word a blocked cpu's thread waits on (src/sync/pv.ts)
  PV_WAIT_ON: 23,
  // parallel mode: while this cpu's thread is blocked, the word its task spins on + 1 (PV_ANY: any kick will do); 0 otherwise
  GATHER_PAGES: 24,
  // FREE_PTE_NR frames
  FLUSH_ACK_NS: 24 + 512,
  // this cpu's sender slot: per target cpu, the model time it acked (NS_WORDS each, MAX_CPU_SLOTS of them)
  SPIN_ON: 24 + 512 + 32 * 2,
  // the lock its task spins on + 1, 0 when it spins on none: what a release kicks (src/sync/pv.ts)
  WORDS: 24 + 512 + 32 * 2 + 1
};
var MAX_CPU_SLOTS = 32;
var TlbState = { OK: 0, LAZY: 1 };
var TLB_FIELD = { TAG: 0, VPN: 1, PTE: 2, GEN: 3, WORDS: 4 };
var TLB_WAYS = 4;
var MAX_VMAS = 16;
var VMA_FIELD = { START: 0, END: 1, FLAGS: 2, I_MMAP: 3, TRUNCATE_COUNT: 4, PGOFF: 5, WORDS: 6 };
var VMA_FLAGS = { USED: 1, READ: 2, WRITE: 4, ANON: 8, FILE: 16, SHARED: 32 };
var RWSEM = struct([["ACTIVITY", 1], ["OWNER", 1], ["WAIT_LOCK", LOCK.WORDS], ["WAIT_HEAD", 1], ["WAIT_TAIL", 1], ["LAST_CPU", 1]]);
var RWSEM_WRITER = -1;
var MUTEX = struct([["COUNT", 1], ["OWNER", 1], ["WAIT_LOCK", LOCK.WORDS], ["WAIT_HEAD", 1], ["WAIT_TAIL", 1], ["LAST_CPU", 1]]);
var MM_FIELD = struct([
  ["PGD", 1],
  // frame of the pgd page
  ["USERS", 1],
  // mm_users
  ["CPUMASK", 1],
  // mm_cpumask
  ["RSS_ANON", 1],
  // MM_ANONPAGES
  ["RSS_FILE", 1],
  // MM_FILEPAGES
  ["RSS_SWAP", 1],
  // MM_SWAPENTS
  ["NR_PTES", 1],
  ["MMAP_SEM", RWSEM.WORDS],
  // rw-semaphore
  ["PAGE_TABLE_LOCK", LOCK.WORDS],
  // spinlock
  ["EXITED", 1],
  // exit_mmap done
  ["WRPROTECT_BUSY", 1],
  // oracle bookkeeping: mprotect calls removing write permission that have not returned (WRITE_AFTER_WRPROTECT)
  ["VMAS", MAX_VMAS * VMA_FIELD.WORDS]
  // MAX_VMAS records of VMA_FIELD
]);
var MM_WORDS = MM_FIELD.WORDS;
var FILE_FIELD = struct([
  ["I_MMAP_LOCK", Math.max(MUTEX.WORDS, LOCK.WORDS)],
  ["I_MMAP_COUNT", 1],
  ["TRUNCATE_COUNT", 1],
  ["I_SIZE", 1],
  ["I_SIZE_SET", 1],
  ["TRUNCATING", 1],
  ["TREE_LOCK", LOCK.WORDS],
  ["NR_PAGES", 1],
  ["ACCOUNT_DIRTY", 1],
  ["PAGES_WRITTEN", 1]
]);
var NR_FILES = 1;
var TASK_FIELD = struct([["STATE", 1], ["CPU", 1], ["MM", 1], ["KIND", 1], ["WAIT_NEXT", 1], ["WAIT_FLAGS", 1], ["PREEMPT_COUNT", 1], ["WAKE_NS", NS_WORDS]]);
var TaskState = { RUNNING: 0, SLEEPING: 1, EXITED: 2 };
var TaskKind = { USER: 0, KWORKER: 1, PROBE: 2, FLUSHER: 3 };
var WAIT_FLAG = { WRITER: 1, GRANTED: 2 };
var CLOCK_STRIDE = CACHE_LINE_WORDS / 2;
var CLOCK_SLOT = { HOLD: 0, ACT: 1, USER_WAIT: 2 };
function layoutRegions(s) {
  const table = [
    ["header", HDR.WORDS, "magic, layout version, run state, poison and stop words, sizes, zone lock, workload words"],
    ["pages", s.pages * PAGE_FIELD.WORDS, "struct page per frame (PAGE_FIELD)"],
    ["freeStack", s.pages, "free frames, a stack under the zone lock"],
    ["ptStore", s.ptSlots * PTRS_PER_TABLE, "512 entries per page-table page (PTE encoding)"],
    ["ptFreeStack", s.ptSlots, "free page-table storage slots, under the zone lock"],
    ["cpus", s.cpus * CPU_FIELD.WORDS, "per-cpu block (CPU_FIELD), legacy per-cpu mmu_gathers included"],
    ["tlb", s.cpus * s.tlbEntries * TLB_FIELD.WORDS, "per-cpu TLB, TLB_WAYS-way set associative (TLB_FIELD)"],
    ["mms", s.mms * MM_WORDS, "struct mm_struct with its VMA table (MM_FIELD, VMA_FIELD)"],
    ["files", NR_FILES * FILE_FIELD.WORDS, "struct address_space with its i_mmap lock (FILE_FIELD)"],
    ["pageCache", NR_FILES * s.filePages, "the file's page cache: frame per file page index, 0 when absent, under tree_lock"],
    ["fileDisk", NR_FILES * s.filePages, "the file's on-disk data version per file page index, written by writepage"],
    ["tasks", s.tasks * TASK_FIELD.WORDS, "task table and per-cpu runqueues (TASK_FIELD)"],
    ["clocks", s.cpus * CACHE_LINE_WORDS, "per-cpu clock horizons: Float64s (ns) on the cpu's own cache line, read by every cpu for the skew bound (CLOCK_SLOT)"],
    ["workloadNs", WORKLOAD_WORDS * 2, "per workload word, a Float64: the model time it was last set (ns), so a task that waited for it goes on no earlier"]
  ];
  const regions = [];
  let offset = 0;
  for (const [name, words, what] of table) {
    if (name === "clocks") offset = Math.ceil(offset / CACHE_LINE_WORDS) * CACHE_LINE_WORDS;
    regions.push({ name, offset, words, what });
    offset += words;
  }
  return regions;
}
function storeNs(mem, at, ns2) {
  mem[at] = ns2 % 4294967296 | 0;
  mem[at + 1] = Math.floor(ns2 / 4294967296);
}
function loadNs(mem, at) {
  return mem[at + 1] * 4294967296 + (mem[at] >>> 0);
}
(function checkLayout() {
  const check = (ok, what) => {
    if (!ok) throw new Error(`layout: ${what}`);
  };
  const disjoint = (table, rows, words) => {
    const sorted = [...rows].sort((a, b) => a[1] - b[1]);
    for (let i = 0; i < sorted.length; i++) {
      const [name, at, len] = sorted[i];
      check(at >= 0 && at + len <= words, `${table}.${name} [${at}, ${at + len}) lies outside its ${words} words`);
      const next = sorted[i + 1];
      if (next) check(at + len <= next[1], `${table}.${name} overlaps ${table}.${next[0]}`);
    }
  };
  disjoint("HDR", [
    ["MAGIC", HDR.MAGIC, 1],
    ["VERSION", HDR.VERSION, 1],
    ["RUN_STATE", HDR.RUN_STATE, 1],
    ["POISON", HDR.POISON, 1],
    ["STOP", HDR.STOP, 1],
    ["NR_CPUS", HDR.NR_CPUS, 1],
    ["NR_PAGES", HDR.NR_PAGES, 1],
    ["NR_PT_SLOTS", HDR.NR_PT_SLOTS, 1],
    ["NR_MMS", HDR.NR_MMS, 1],
    ["NR_TASKS", HDR.NR_TASKS, 1],
    ["TLB_ENTRIES", HDR.TLB_ENTRIES, 1],
    ["LIVE_TASKS", HDR.LIVE_TASKS, 1],
    ["CPUS_STARTED", HDR.CPUS_STARTED, 1],
    ["CPUS_CONCURRENT_MAX", HDR.CPUS_CONCURRENT_MAX, 1],
    ["CPUS_RUNNING", HDR.CPUS_RUNNING, 1],
    ["FREE_TOP", HDR.FREE_TOP, 1],
    ["PT_FREE_TOP", HDR.PT_FREE_TOP, 1],
    ["SPINNERS", HDR.SPINNERS, 1],
    ["VIOLATIONS", HDR.VIOLATIONS, 1],
    ["ONLINE_CPUS", HDR.ONLINE_CPUS, 1],
    ["NR_FILE_PAGES", HDR.NR_FILE_PAGES, 1],
    ["WORD_EPOCH", HDR.WORD_EPOCH, 1],
    ["ZONE_LOCK", HDR.ZONE_LOCK, LOCK.WORDS],
    ["RUN_START_US", HDR.RUN_START_US, 1],
    ["WORKLOAD", HDR.WORKLOAD, WORKLOAD_WORDS]
  ], HDR.WORDS);
  disjoint("CPU_FIELD", [
    ...Object.entries(CPU_FIELD).filter(([k]) => !["WORDS", "GATHER_PAGES", "FLUSH_ACK_NS", "FLUSH_SENT_NS"].includes(k)).map(([k, v]) => [k, v, 1]),
    ["FLUSH_SENT_NS", CPU_FIELD.FLUSH_SENT_NS, NS_WORDS],
    ["GATHER_PAGES", CPU_FIELD.GATHER_PAGES, 512],
    ["FLUSH_ACK_NS", CPU_FIELD.FLUSH_ACK_NS, MAX_CPU_SLOTS * NS_WORDS]
  ], CPU_FIELD.WORDS);
  check(LOCK.RELEASE_NS + NS_WORDS === LOCK.WORDS, "LOCK.RELEASE_NS is not its last two words");
  check(VMA_FIELD.WORDS * MAX_VMAS === MM_WORDS - MM_FIELD.VMAS, "the VMA table is not the end of struct mm_struct");
  check(WORKLOAD_WORDS_PER_MM * MAX_MMS === WORKLOAD_WORDS, "workload words do not divide among the mms");
})();
function layoutBytes(s) {
  const r = layoutRegions(s);
  const last = r[r.length - 1];
  return (last.offset + last.words) * 4;
}
var Machine = class _Machine {
  constructor(sab, size) {
    this.sab = sab;
    this.size = size;
    this.mem = new Int32Array(sab);
    const r = Object.fromEntries(layoutRegions(size).map((x) => [x.name, x.offset]));
    this.pagesBase = r.pages;
    this.freeStackBase = r.freeStack;
    this.ptStoreBase = r.ptStore;
    this.ptFreeStackBase = r.ptFreeStack;
    this.cpusBase = r.cpus;
    this.tlbBase = r.tlb;
    this.mmsBase = r.mms;
    this.filesBase = r.files;
    this.pageCacheBase = r.pageCache;
    this.fileDiskBase = r.fileDisk;
    this.tasksBase = r.tasks;
    this.clocks = new Float64Array(sab, r.clocks * 4, size.cpus * CLOCK_STRIDE);
    this.workloadNs = new Float64Array(sab, r.workloadNs * 4, WORKLOAD_WORDS);
    this.tlbSets = size.tlbEntries / TLB_WAYS;
    if (this.mem.length * 4 !== layoutBytes(size)) throw new Error("machine buffer does not match its layout");
  }
  sab;
  mem;
  size;
  pagesBase;
  freeStackBase;
  ptStoreBase;
  ptFreeStackBase;
  cpusBase;
  tlbBase;
  mmsBase;
  filesBase;
  pageCacheBase;
  fileDiskBase;
  tasksBase;
  tlbSets;
  /** Per-cpu clock horizons (ns), a cache line each: `clocks[cpu * CLOCK_STRIDE + CLOCK_SLOT.x]`. */
  clocks;
  /** Per workload word (HDR.WORKLOAD + i), the model time it was last set. */
  workloadNs;
  /**
   * Deterministic mode: the cpus (a bit each) whose view another cpu changed
   * since the engine last looked (src/sync/pv.ts). Local to this thread's
   * Machine object: parallel mode's cpus are woken instead.
   */
  changedCpus = 0;
  static create(size) {
    const m = new _Machine(new SharedArrayBuffer(layoutBytes(size)), size);
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
    m.clocks.fill(NaN);
    return m;
  }
  /** Attach to a buffer made elsewhere, checking it is the layout we expect. */
  static attach(sab, size) {
    const m = new _Machine(sab, size);
    if (m.mem[HDR.MAGIC] !== LAYOUT_MAGIC || m.mem[HDR.VERSION] !== LAYOUT_VERSION) {
      throw new Error("shared buffer is not a shootdown machine of this layout version");
    }
    return m;
  }
  page(frame, field) {
    return this.pagesBase + frame * PAGE_FIELD.WORDS + field;
  }
  cpu(cpu, field) {
    return this.cpusBase + cpu * CPU_FIELD.WORDS + field;
  }
  tlbEntry(cpu, slot) {
    return this.tlbBase + (cpu * this.size.tlbEntries + slot) * TLB_FIELD.WORDS;
  }
  mm(mm, field) {
    return this.mmsBase + mm * MM_WORDS + field;
  }
  vma(mm, slot, field) {
    return this.mmsBase + mm * MM_WORDS + MM_FIELD.VMAS + slot * VMA_FIELD.WORDS + field;
  }
  file(file, field) {
    return this.filesBase + file * FILE_FIELD.WORDS + field;
  }
  /** The page-cache slot of file page `index` (the one file's radix tree, flattened). */
  pageCacheSlot(index) {
    if (!(index >= 0 && index < this.size.filePages)) throw new Error(`file page ${index} is outside the page cache's ${this.size.filePages} slots`);
    return this.pageCacheBase + index;
  }
  /** The on-disk data version of file page `index`. */
  fileDiskSlot(index) {
    if (!(index >= 0 && index < this.size.filePages)) throw new Error(`file page ${index} is outside the file's ${this.size.filePages} pages`);
    return this.fileDiskBase + index;
  }
  task(task, field) {
    return this.tasksBase + task * TASK_FIELD.WORDS + field;
  }
  /** The word holding entry `index` of the page table in `frame`. */
  ptEntry(frame, index) {
    const slot = this.mem[this.page(frame, PAGE_FIELD.PT_SLOT)] - 1;
    if (slot < 0) throw new Error(`frame ${frame} is not a page table`);
    return this.ptStoreBase + slot * PTRS_PER_TABLE + index;
  }
  ptSlotBase(slot) {
    return this.ptStoreBase + slot * PTRS_PER_TABLE;
  }
  get poisoned() {
    return Atomics.load(this.mem, HDR.POISON) !== 0;
  }
  get stopped() {
    return Atomics.load(this.mem, HDR.STOP) !== 0 || Atomics.load(this.mem, HDR.POISON) !== 0;
  }
};

// src/machine/marks.ts
var recording = null;
function mark(name) {
  if (recording !== null) recording.set(name, (recording.get(name) ?? 0) + 1);
}

// src/machine/costs.ts
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";

// src/machine/step.ts
var Step = {
  LOCK: 0,
  // a lock was taken or released
  SPIN: 1,
  // a spin iteration failed (lock busy, ack not yet in)
  PTE: 2,
  // a pte or page-table entry changed
  FREE: 3,
  // a page went back to the allocator
  TLB: 4,
  // a TLB fill or flush
  IPI: 5,
  // an IPI was sent
  PREEMPT: 6,
  // preempt_enable dropped preempt_count to 0 (a preemption point under CONFIG_PREEMPT)
  SLEEP: 7,
  // schedule() after setting the task's state to sleep: blocked until woken
  USER: 8,
  // a user-space instruction, or the return to user space (preemptible in every model)
  RESCHED: 9,
  // cond_resched(): an explicit preemption point, live in every model
  MIGHT_RESCHED: 10,
  // might_sleep(): a preemption point under CONFIG_PREEMPT_VOLUNTARY and CONFIG_PREEMPT
  YIELD: 11
  // sched_yield() from user space: give the cpu to another runnable task
};
var STEP_NAMES = (() => {
  const names = [];
  for (const [name, kind] of Object.entries(Step)) names[kind] = name;
  return names;
})();
function* call(callee) {
  return yield callee;
}
var PATH_DEPTH_MAX = 64;
var PathStack = class {
  frames;
  sent = void 0;
  /** The root path's return value, once next() has said DONE. */
  result = void 0;
  constructor(root) {
    this.frames = [root];
  }
  /** The next step point, or PATH_DONE when the root path returned. */
  next() {
    const frames = this.frames;
    for (; ; ) {
      const r = frames[frames.length - 1].next(this.sent);
      this.sent = void 0;
      if (r.done) {
        frames.pop();
        if (frames.length === 0) {
          this.result = r.value;
          return PATH_DONE;
        }
        this.sent = r.value;
      } else if (typeof r.value === "number") {
        return r.value;
      } else {
        modelAssert(frames.length < PATH_DEPTH_MAX, "kernel path calls nest too deep", () => `${frames.length} frames`);
        {
          const G = globalThis;
          const n = Object.getPrototypeOf(r.value).__n ?? "?";
          (G.__byName ??= /* @__PURE__ */ new Map()).set(n, (G.__byName.get(n) ?? 0) + 1);
        }
        frames.push(r.value);
      }
    }
  }
};
var PATH_DONE = -1;

// src/machine/costs.ts
var COST_NAMES = [
  "lockNs",
  "spinNs",
  "pteNs",
  "freeNs",
  "tlbNs",
  "ipiNs",
  "preemptNs",
  "sleepNs",
  "userNs",
  "reschedNs",
  "mightReschedNs",
  "yieldNs",
  "cacheLineTransferNs",
  "ipiDeliveryNs",
  "ipiHandlerNs",
  "tlbFlushAllNs",
  "tlbFlushOneNs",
  "pageFaultNs",
  "contextSwitchNs",
  "wakeupNs"
];
var STEP_COST = {
  [Step.LOCK]: "lockNs",
  [Step.SPIN]: "spinNs",
  [Step.PTE]: "pteNs",
  [Step.FREE]: "freeNs",
  [Step.TLB]: "tlbNs",
  [Step.IPI]: "ipiNs",
  [Step.PREEMPT]: "preemptNs",
  [Step.SLEEP]: "sleepNs",
  [Step.USER]: "userNs",
  [Step.RESCHED]: "reschedNs",
  [Step.MIGHT_RESCHED]: "mightReschedNs",
  [Step.YIELD]: "yieldNs"
};
function stepCosts(t) {
  const out = new Float64Array(Object.keys(STEP_COST).length);
  for (const [kind, name] of Object.entries(STEP_COST)) out[Number(kind)] = t[name];
  return out;
}
var COST_NS_MAX = 1e7;
var COST_VALUE = z.union([z.number(), z.strictObject({ ns: z.number(), source: z.string().max(1e3) })]);
var COST_FILE = z.record(z.string(), COST_VALUE);
var COST_TABLE_SCHEMA = z.strictObject(Object.fromEntries(COST_NAMES.map((n) => [n, z.number().int().min(0).max(COST_NS_MAX)])));
function costsFrom(where, data, base2) {
  const parsed = COST_FILE.safeParse(data ?? {});
  if (!parsed.success) throw new BadInput(`${where}: must map cost names to ns (a number, or {ns, source})`);
  const out = { ...base2 };
  for (const [name, v] of Object.entries(parsed.data)) {
    if (!COST_NAMES.includes(name)) throw new BadInput(`${where}: ${name}: not a cost (known: ${COST_NAMES.join(", ")})`);
    const ns2 = typeof v === "number" ? v : v.ns;
    if (!Number.isInteger(ns2) || ns2 < 0 || ns2 > COST_NS_MAX) throw new BadInput(`${where}: ${name}: ${ns2} must be a whole number of ns from 0 to ${COST_NS_MAX}`);
    out[name] = ns2;
  }
  const missing = COST_NAMES.filter((n) => out[n] === void 0);
  if (missing.length > 0) throw new BadInput(`${where}: no cost for ${missing.join(", ")}`);
  return out;
}
function loadCostFile(file, base2) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new BadInput(`--costs ${file}: ${e.code ?? "unreadable"}`);
  }
  let data;
  try {
    data = parse(text);
  } catch (e) {
    throw new BadInput(`--costs ${file}: not YAML: ${e.message.split("\n")[0]}`);
  }
  return costsFrom(`--costs ${file}`, data, base2);
}
var defaults = null;
function defaultCosts() {
  defaults ??= loadCostFile(new URL("../../costs/default.yaml", import.meta.url).pathname, null);
  return { ...defaults };
}

// src/stats/histogram.ts
import * as hdr from "hdr-histogram-js";
var HIGHEST_NS = 1e12;
function build2() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_NS, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}
var Hist = class _Hist {
  h;
  constructor(h) {
    this.h = h ?? build2();
  }
  recordNs(ns2) {
    this.h.recordValue(Math.min(HIGHEST_NS, Math.max(1, Math.round(ns2))));
  }
  /** A duration measured in microseconds (the unit of Kctx.now). */
  recordUs(us) {
    this.recordNs(us * 1e3);
  }
  get count() {
    return this.h.totalCount;
  }
  add(other) {
    this.h.add(other.h);
  }
  summary() {
    const h = this.h;
    const empty = h.totalCount === 0;
    const at = (p) => empty ? 0 : h.getValueAtPercentile(p);
    return {
      count: h.totalCount,
      minNs: empty ? 0 : h.minNonZeroValue,
      p50Ns: at(50),
      p90Ns: at(90),
      p99Ns: at(99),
      p999Ns: at(99.9),
      maxNs: empty ? 0 : h.maxValue,
      meanNs: empty ? 0 : Math.round(h.mean)
    };
  }
  encode() {
    return hdr.encodeIntoCompressedBase64(this.h);
  }
  static decode(s) {
    return new _Hist(hdr.decodeFromCompressedBase64(s, 32, false));
  }
};

// src/stats/latency.ts
var LATENCY_NAMES = ["preemptOff", "irqsOff", "probeWakeup", "pteLockWait", "pteLockHold", "gatherFlush", "ipiAckWait"];
var CpuLatency = class {
  constructor(enabled) {
    this.enabled = enabled;
    this.hists = Object.fromEntries(LATENCY_NAMES.map((n) => [n, new Hist()]));
  }
  enabled;
  hists;
  preemptOffMax = null;
  irqsOffMax = null;
  /** Parallel mode: IPI send to last ack in host time, what the host's threads make of a shootdown (a host figure, never a model one). */
  hostIpiAckWait = new Hist();
  /** Parallel mode: host time spent inside measured operations (µs), the worker's speed at the kernel paths. */
  hostOpTimeUs = 0;
  recordUs(name, us) {
    if (this.enabled) this.hists[name].recordUs(us);
  }
  encode() {
    return {
      hists: Object.fromEntries(LATENCY_NAMES.map((n) => [n, this.hists[n].encode()])),
      preemptOffMax: this.preemptOffMax,
      irqsOffMax: this.irqsOffMax,
      hostIpiAckWait: this.hostIpiAckWait.encode(),
      hostOpTimeUs: this.hostOpTimeUs
    };
  }
};
function longer(a, b) {
  if (!a) return b;
  if (!b) return a;
  return b.ns > a.ns ? b : a;
}
function mergeLatency(parts) {
  const merged = Object.fromEntries(LATENCY_NAMES.map((n) => [n, new Hist()]));
  let preemptOffMax = null;
  let irqsOffMax = null;
  for (const p of parts) {
    for (const n of LATENCY_NAMES) merged[n].add(Hist.decode(p.hists[n]));
    preemptOffMax = longer(preemptOffMax, p.preemptOffMax);
    irqsOffMax = longer(irqsOffMax, p.irqsOffMax);
  }
  return {
    summaries: Object.fromEntries(LATENCY_NAMES.map((n) => [n, merged[n].summary()])),
    encoded: Object.fromEntries(LATENCY_NAMES.map((n) => [n, merged[n].encode()])),
    preemptOffMax,
    irqsOffMax
  };
}
function mergeHostIpiAckWait(parts) {
  const merged = new Hist();
  for (const p of parts) merged.add(Hist.decode(p.hostIpiAckWait));
  return merged.summary();
}

// src/stats/lockstat.ts
var CONTENTION_POINTS_MAX = 8;
function emptyClass(cls) {
  return {
    class: cls,
    conBounces: 0,
    contentions: 0,
    waittimeMinNs: 0,
    waittimeMaxNs: 0,
    waittimeTotalNs: 0,
    acqBounces: 0,
    acquisitions: 0,
    holdtimeMinNs: 0,
    holdtimeMaxNs: 0,
    holdtimeTotalNs: 0,
    contentionPoints: []
  };
}
function minNonZero(a, b) {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}
var LockStat = class {
  constructor(enabled) {
    this.enabled = enabled;
  }
  enabled;
  classes = /* @__PURE__ */ new Map();
  of(cls) {
    let s = this.classes.get(cls);
    if (!s) this.classes.set(cls, s = emptyClass(cls));
    return s;
  }
  /** An acquisition; `waitedNs` > 0 or `contended` when it had to wait; `bounced` when the previous holder was another cpu. */
  acquired(cls, site, contended, waitedNs, bounced) {
    if (!this.enabled) return;
    const s = this.of(cls);
    s.acquisitions++;
    if (bounced) s.acqBounces++;
    if (!contended) return;
    s.contentions++;
    if (bounced) s.conBounces++;
    s.waittimeMinNs = minNonZero(s.waittimeMinNs, Math.max(1, waitedNs));
    s.waittimeMaxNs = Math.max(s.waittimeMaxNs, waitedNs);
    s.waittimeTotalNs += waitedNs;
    const p = s.contentionPoints.find((x) => x.site === site);
    if (p) p.count++;
    else if (s.contentionPoints.length < CONTENTION_POINTS_MAX) s.contentionPoints.push({ site, count: 1 });
  }
  released(cls, heldNs) {
    if (!this.enabled) return;
    const s = this.of(cls);
    s.holdtimeMinNs = minNonZero(s.holdtimeMinNs, Math.max(1, heldNs));
    s.holdtimeMaxNs = Math.max(s.holdtimeMaxNs, heldNs);
    s.holdtimeTotalNs += heldNs;
  }
  snapshot() {
    return [...this.classes.values()].map((s) => ({ ...s, contentionPoints: s.contentionPoints.map((p) => ({ ...p })) }));
  }
};
function mergeLockStat(parts) {
  const out = /* @__PURE__ */ new Map();
  for (const part of parts) {
    for (const s of part) {
      const m = out.get(s.class) ?? emptyClass(s.class);
      m.conBounces += s.conBounces;
      m.contentions += s.contentions;
      m.waittimeMinNs = minNonZero(m.waittimeMinNs, s.waittimeMinNs);
      m.waittimeMaxNs = Math.max(m.waittimeMaxNs, s.waittimeMaxNs);
      m.waittimeTotalNs += s.waittimeTotalNs;
      m.acqBounces += s.acqBounces;
      m.acquisitions += s.acquisitions;
      m.holdtimeMinNs = minNonZero(m.holdtimeMinNs, s.holdtimeMinNs);
      m.holdtimeMaxNs = Math.max(m.holdtimeMaxNs, s.holdtimeMaxNs);
      m.holdtimeTotalNs += s.holdtimeTotalNs;
      for (const p of s.contentionPoints) {
        const q = m.contentionPoints.find((x) => x.site === p.site);
        if (q) q.count += p.count;
        else m.contentionPoints.push({ ...p });
      }
      out.set(s.class, m);
    }
  }
  const all = [...out.values()];
  for (const s of all) s.contentionPoints.sort((a, b) => b.count - a.count || a.site.localeCompare(b.site));
  return all.sort((a, b) => b.contentions - a.contentions || b.acquisitions - a.acquisitions || a.class.localeCompare(b.class));
}
var HOLD_TIMES_MAX = 64;
var HoldTimes = class {
  keys = [];
  sinceUs = [];
  set(key, us) {
    const i = this.keys.lastIndexOf(key);
    if (i >= 0) {
      this.sinceUs[i] = us;
      return;
    }
    modelAssert(this.keys.length < HOLD_TIMES_MAX, "too many locks held at once", () => `${this.keys.length} timed holds`);
    this.keys.push(key);
    this.sinceUs.push(us);
  }
  /** When `key` was taken, forgetting it; undefined when its hold was not timed. */
  take(key) {
    const i = this.keys.lastIndexOf(key);
    if (i < 0) return void 0;
    const us = this.sinceUs[i];
    this.keys[i] = this.keys[this.keys.length - 1];
    this.sinceUs[i] = this.sinceUs[this.sinceUs.length - 1];
    this.keys.pop();
    this.sinceUs.pop();
    return us;
  }
};

// src/stats/trace.ts
var TRACE_PID = 1;
function ipiFlowId(sender, seq, target) {
  return `ipi-${sender}-${seq}-${target}`;
}
var CpuTrace = class {
  constructor(cpu, limit) {
    this.cpu = cpu;
    this.limit = limit;
  }
  cpu;
  limit;
  events = [];
  dropped = 0;
  /** Shootdowns sent by this cpu so far, to name IPI flows. */
  ipiSeq = 0;
  gatherSeq = 0;
  push(e) {
    if (this.events.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.events.push(e);
  }
  /** Room for `n` more events: flows are recorded whole or not at all. */
  hasRoom(n) {
    return this.events.length + n <= this.limit;
  }
  slice(name, cat, startUs, endUs, args) {
    this.push({ name, cat, ph: "X", ts: startUs, dur: Math.max(0, endUs - startUs), pid: TRACE_PID, tid: this.cpu, ...args ? { args } : {} });
  }
  instant(name, cat, tsUs, args) {
    this.push({ name, cat, ph: "i", s: "t", ts: tsUs, pid: TRACE_PID, tid: this.cpu, ...args ? { args } : {} });
  }
  /** An async slice (a gather); returns its id for gatherEnd. */
  gatherBegin(tsUs, task, design) {
    const id = `gather-${this.cpu}-${this.gatherSeq++}`;
    this.push({ name: `mmu_gather (${design})`, cat: "gather", ph: "b", id, ts: tsUs, pid: TRACE_PID, tid: this.cpu, args: { task } });
    return id;
  }
  gatherEnd(id, tsUs, design) {
    this.events.push({ name: `mmu_gather (${design})`, cat: "gather", ph: "e", id, ts: tsUs, pid: TRACE_PID, tid: this.cpu });
  }
  flow(ph, id, tsUs) {
    this.push({ name: "IPI", cat: "ipi", ph, id, ts: tsUs, pid: TRACE_PID, tid: this.cpu, ...ph === "s" ? {} : { bp: "e" } });
  }
  counter(name, tsUs, value) {
    this.push({ name, ph: "C", ts: tsUs, pid: TRACE_PID, tid: this.cpu, args: { value } });
  }
};
function mergeTrace(cpus, parts, otherData) {
  const all = parts.flatMap((p) => p.events);
  const flowPhases = /* @__PURE__ */ new Map();
  const gatherBegins = /* @__PURE__ */ new Set();
  for (const e of all) {
    if (e.cat === "ipi" && e.id) flowPhases.set(e.id, (flowPhases.get(e.id) ?? /* @__PURE__ */ new Set()).add(e.ph));
    if (e.ph === "b" && e.id) gatherBegins.add(e.id);
  }
  const kept = all.filter((e) => {
    if (e.cat === "ipi" && e.id) {
      const phases = flowPhases.get(e.id);
      return phases.has("s") && phases.has("f");
    }
    if (e.ph === "e" && e.id) return gatherBegins.has(e.id);
    return true;
  });
  kept.sort((a, b) => a.ts - b.ts || a.tid - b.tid);
  const meta = [{ name: "process_name", ph: "M", ts: 0, pid: TRACE_PID, tid: 0, args: { name: "shootdown machine" } }];
  for (let cpu = 0; cpu < cpus; cpu++) meta.push({ name: "thread_name", ph: "M", ts: 0, pid: TRACE_PID, tid: cpu, args: { name: `CPU ${cpu}` } });
  const dropped = parts.reduce((n, p) => n + p.dropped, 0);
  return { traceEvents: [...meta, ...kept], displayTimeUnit: "ns", otherData: { ...otherData, eventsDropped: dropped } };
}

// src/stats/counters.ts
var COUNTER_NAMES = [
  "gatherFlushes",
  // tlb_flush_mmu calls that flushed (need_flush was set)
  "forcedFlushes",
  // rework: flushes after a full batch broke out of the pte lock
  "flushesUnderPteLock",
  // flushes issued while a pte lock was held
  "pagesFreedUnderPteLock",
  "maxPagesFreedInOnePteLockHold",
  "ipisSent",
  "ipisHandled",
  "lazyLeaves",
  // leave_mm because a flush reached a lazy cpu
  "tlbFlushesLocal",
  "pagesFreed",
  // data pages returned to the allocator
  "pageTablesFreed",
  "pteLockAcquisitions",
  // by the zap path
  "batchAllocFailures",
  // GFP_NOWAIT batch-page allocations that failed
  "batchAllocs",
  "gatherLocalStarts",
  // rework: gathers whose first batch-page allocation failed, so they began on the 8 local slots (counted by workloads that run one gather per op: pressure)
  "gatherUpgrades",
  // rework: of those, gathers that got the batch page after a flush and went on with 512 slots (pressure)
  "pageFaults",
  "pageCacheAdds",
  // pages put into the file's page cache (add_to_page_cache)
  "pageCacheRemovals",
  // pages taken out of it (truncate_inode_pages)
  "segfaults",
  "userAccesses",
  "tlbHits",
  "tlbMisses",
  "tlbDirtyWalks",
  // writes through a TLB entry without the dirty bit, which walk the page table to set it (x86 caches D)
  "condResched",
  "iMmapLockBreaks",
  // unmap_mapping_range_vma dropped the i_mmap lock (need_resched or a waiter) and restarted its walk
  "pteUnmapWrongPage",
  // rework-seed: pte_unmap_unlock(pte - 1) named another page-table page
  "ops",
  // measured operations completed (munmap, madvise, exit_mmap, a round of faults)
  "opTimeUs",
  // time spent in measured operations, on the run's clock
  "voluntarySwitches",
  // schedule() called by the task itself (nvcsw)
  "involuntarySwitches",
  // preempted (nivcsw)
  "preemptionsInGather",
  // preempted between tlb_gather_mmu and tlb_finish_mmu
  "wakeups",
  // wake_up_process calls that woke a sleeping task
  "sleepingLockWaits",
  // sleeps on a mutex or rw-semaphore
  "kworkerRuns",
  "probeWakeups",
  "wpFaults",
  // do_wp_page on a shared file page: the write-protected pte made writable and dirty again
  "mkcleanPtes",
  // ptes page_mkclean write-protected and cleaned
  "pagesWrittenBack",
  // writepage calls: a page's data version written to the disk
  "fsyncs",
  // msync(MS_SYNC) and fsync calls
  "pagesReclaimed",
  // clean, unmapped page-cache pages reclaim dropped
  "flusherRuns"
  // wake-ups of the bdi flusher thread
];
function newCounters() {
  const c = {};
  for (const n of COUNTER_NAMES) c[n] = 0;
  return c;
}
var IS_MAX = COUNTER_NAMES.map((n) => n.startsWith("max"));
function addCounters(into, from) {
  for (let i = 0; i < COUNTER_NAMES.length; i++) {
    const n = COUNTER_NAMES[i];
    into[n] = IS_MAX[i] ? Math.max(into[n], from[n]) : into[n] + from[n];
  }
}

// src/sync/context.ts
var USER_FN = "user";
function fnEnter(ctx, name) {
  const caller = ctx.fn;
  ctx.fn = name;
  return caller;
}
function lockHoldKey(lock, task) {
  return lock * 4096 + task + 1;
}
var FLAT_STEP_NS = 1e3;
function charge(ctx, ns2) {
  if (ctx.modelClocks) ctx.clockNs += ns2;
}
function clockAtLeast(ctx, ns2) {
  if (ctx.modelClocks && ns2 > ctx.clockNs) ctx.clockNs = ns2;
}
function newKctx(base2) {
  const ctx = {
    m: base2.m,
    mem: base2.m.mem,
    cpu: base2.cpu,
    config: base2.config,
    traits: base2.traits,
    oracle: base2.oracle,
    rng: base2.rng,
    clockNs: 0,
    now: () => ctx.clockNs / 1e3,
    watchNow: base2.watchNow,
    watchIsHost: base2.config.mode === "parallel",
    costs: base2.config.costs,
    stepCostNs: base2.config.modelClocks ? stepCosts(base2.config.costs) : new Float64Array(12).fill(FLAT_STEP_NS),
    modelClocks: base2.config.modelClocks,
    task: -1,
    fn: USER_FN,
    mm: -1,
    stats: base2.stats ?? newCounters(),
    cpuStats: newCounters(),
    gfpNowaitCalls: 0,
    ptlHeld: 0,
    ptlFreedThisHold: 0,
    gatherDepth: 0,
    timerWakeAtNs: Infinity,
    lat: new CpuLatency(base2.latencyStats),
    offSinceUs: 0,
    offWhere: "",
    irqsOffSinceUs: 0,
    irqsOffWhere: "",
    lockSinceUs: new HoldTimes(),
    lockStat: new LockStat(base2.latencyStats),
    trace: base2.config.traceLimit > 0 ? new CpuTrace(base2.cpu, base2.config.traceLimit) : null,
    timesLocks: base2.latencyStats || base2.config.traceLimit > 0
  };
  return ctx;
}

// src/sync/preempt.ts
function preemptCount(ctx) {
  return ctx.mem[ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT)];
}
function irqsDisabled(ctx) {
  return ctx.mem[ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED)] > 0;
}
function needResched(ctx) {
  return Atomics.load(ctx.mem, ctx.m.cpu(ctx.cpu, CPU_FIELD.NEED_RESCHED)) !== 0;
}
function closeSection(ctx, sinceUs, startWhere, endWhere, max, hist) {
  const us = ctx.now() - sinceUs;
  ctx.lat.recordUs(hist, us);
  const ns2 = Math.round(us * 1e3);
  if (max && max.ns >= ns2) return max;
  return { ns: ns2, cpu: ctx.cpu, task: ctx.task, startWhere, endWhere };
}
function sectionOpen(ctx, where) {
  if (!ctx.lat.enabled) return;
  ctx.offSinceUs = ctx.now();
  ctx.offWhere = where;
}
function sectionClose(ctx, where) {
  if (!ctx.lat.enabled) return;
  ctx.lat.preemptOffMax = closeSection(ctx, ctx.offSinceUs, ctx.offWhere, where, ctx.lat.preemptOffMax, "preemptOff");
}
function preemptDisable(ctx, where) {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT);
  if (ctx.mem[at] === 0 && !irqsDisabled(ctx)) sectionOpen(ctx, where);
  ctx.mem[at]++;
}
function preemptEnableNoResched(ctx, where) {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT);
  modelAssert(ctx.mem[at] > 0, "preempt_count underflow", () => `cpu ${ctx.cpu} at ${where}`);
  if (--ctx.mem[at] === 0 && !irqsDisabled(ctx)) sectionClose(ctx, where);
}
function* preemptEnable(ctx, where) {
  preemptEnableNoResched(ctx, where);
  if (ctx.config.preempt === "full" && preemptCount(ctx) === 0 && !irqsDisabled(ctx)) yield Step.PREEMPT;
}
function localIrqSave(ctx, where) {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED);
  if (ctx.mem[at] === 0) {
    if (ctx.lat.enabled) {
      ctx.irqsOffSinceUs = ctx.now();
      ctx.irqsOffWhere = where;
    }
    if (preemptCount(ctx) === 0) sectionOpen(ctx, where);
  }
  ctx.mem[at]++;
}
function localIrqRestore(ctx, where) {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED);
  modelAssert(ctx.mem[at] > 0, "irq restore without save", () => `cpu ${ctx.cpu} at ${where}`);
  if (--ctx.mem[at] === 0) {
    if (ctx.lat.enabled) ctx.lat.irqsOffMax = closeSection(ctx, ctx.irqsOffSinceUs, ctx.irqsOffWhere, where, ctx.lat.irqsOffMax, "irqsOff");
    if (preemptCount(ctx) === 0) sectionClose(ctx, where);
  }
}
function checkMightSleep(ctx, where) {
  const pc = preemptCount(ctx);
  if (pc > 0 || irqsDisabled(ctx)) {
    ctx.oracle.report("SLEEP_IN_ATOMIC", { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `${where} with preempt_count ${pc}, irqs ${irqsDisabled(ctx) ? "off" : "on"}`);
  }
}
function* mightSleep(ctx, where) {
  checkMightSleep(ctx, where);
  yield Step.MIGHT_RESCHED;
}
function* condResched(ctx) {
  checkMightSleep(ctx, "cond_resched");
  ctx.stats.condResched++;
  yield Step.RESCHED;
}

// src/sync/pv.ts
var PV_ANY = -1;
function changedForAll(m) {
  m.changedCpus = -1;
}
function holdAtAct(m, cpu) {
  const line = cpu * CLOCK_STRIDE;
  if (!Number.isFinite(m.clocks[line + CLOCK_SLOT.HOLD])) m.clocks[line + CLOCK_SLOT.HOLD] = m.clocks[line + CLOCK_SLOT.ACT];
}
function kickCpu(m, cpu) {
  m.changedCpus |= 1 << cpu;
  holdAtAct(m, cpu);
  Atomics.notify(m.mem, m.cpu(cpu, CPU_FIELD.IPI_PENDING));
  kick(m, cpu, Atomics.load(m.mem, m.cpu(cpu, CPU_FIELD.PV_WAIT_ON)) !== 0);
}
function kickWaiters(m, word) {
  const spinners = Atomics.load(m.mem, HDR.SPINNERS);
  if (spinners === 0) return;
  for (let c = 0; c < m.size.cpus; c++) {
    if ((spinners & 1 << c) === 0 || Atomics.load(m.mem, m.cpu(c, CPU_FIELD.SPIN_ON)) !== word + 1) continue;
    m.changedCpus |= 1 << c;
    holdAtAct(m, c);
    kick(m, c, Atomics.load(m.mem, m.cpu(c, CPU_FIELD.PV_WAIT_ON)) === word + 1);
  }
}
function spinOn(m, cpu, word) {
  if (word < 0) return;
  Atomics.store(m.mem, m.cpu(cpu, CPU_FIELD.SPIN_ON), word + 1);
  Atomics.or(m.mem, HDR.SPINNERS, 1 << cpu);
}
function spinEnd(m, cpu) {
  if (Atomics.load(m.mem, m.cpu(cpu, CPU_FIELD.SPIN_ON)) === 0) return;
  Atomics.and(m.mem, HDR.SPINNERS, ~(1 << cpu));
  Atomics.store(m.mem, m.cpu(cpu, CPU_FIELD.SPIN_ON), 0);
}
function kick(m, cpu, blocked) {
  const at = m.cpu(cpu, CPU_FIELD.PV_KICK);
  Atomics.add(m.mem, at, 1);
  if (blocked) Atomics.notify(m.mem, at);
}

// src/sync/spin.ts
var SpinWatch = class {
  /**
   * `scale` stretches the limit for waits that are not kernel spins (user
   * space waiting on another task); `word`, the lock spun on, is what a
   * blocked host thread is kicked by (pv.ts); without one, any kick.
   */
  constructor(ctx, where, scale = 1, word = PV_ANY) {
    this.ctx = ctx;
    this.where = where;
    spinOn(ctx.m, ctx.cpu, word);
    this.start = ctx.watchNow();
    this.limitUs = ctx.config.lockupMs * 1e3 * scale;
  }
  ctx;
  where;
  spins = 0;
  start;
  limitUs;
  /** The wait is over (a spin on a lock: the lock is taken). */
  end() {
    spinEnd(this.ctx.m, this.ctx.cpu);
  }
  /** Call once per failed iteration. Throws when the wait must end. */
  tick() {
    this.spins++;
    if ((this.spins & 63) !== 0) return;
    if (this.ctx.m.poisoned) throw new Poisoned(`cpu ${this.ctx.cpu} stopped in ${this.where}: another cpu failed`);
    const waitedUs = this.ctx.watchNow() - this.start;
    if (waitedUs > this.limitUs) {
      throw new SoftLockup(this.ctx.cpu, this.where, `waited ${Math.round(waitedUs / 1e3)} ms (${this.spins} spins)`);
    }
  }
};

// src/cpu/tlb.ts
function setBase(m, cpu, mm, vpn) {
  const set = ((vpn ^ mm * 40503) >>> 0) % m.tlbSets;
  return set * TLB_WAYS;
}
function tlbLookup(m, cpu, mm, vpn) {
  const mem = m.mem;
  const base2 = setBase(m, cpu, mm, vpn);
  for (let w = 0; w < TLB_WAYS; w++) {
    const e = m.tlbEntry(cpu, base2 + w);
    if (mem[e + TLB_FIELD.TAG] === mm + 1 && mem[e + TLB_FIELD.VPN] === vpn) {
      return { slot: e, pte: mem[e + TLB_FIELD.PTE], gen: mem[e + TLB_FIELD.GEN] };
    }
  }
  return null;
}
function dropEntry(m, e) {
  const mem = m.mem;
  if (Atomics.load(mem, e + TLB_FIELD.TAG) === 0) return;
  Atomics.store(mem, e + TLB_FIELD.TAG, 0);
  Atomics.sub(mem, m.page(pteFrame(mem[e + TLB_FIELD.PTE]), PAGE_FIELD.TLB_REFS), 1);
}
function tlbFill(m, cpu, mm, vpn, pte, gen) {
  const mem = m.mem;
  const base2 = setBase(m, cpu, mm, vpn);
  let victim = -1;
  for (let w = 0; w < TLB_WAYS; w++) {
    const e = m.tlbEntry(cpu, base2 + w);
    const tag = mem[e + TLB_FIELD.TAG];
    if (tag === mm + 1 && mem[e + TLB_FIELD.VPN] === vpn) {
      victim = e;
      break;
    }
    if (tag === 0 && victim < 0) victim = e;
  }
  if (victim < 0) {
    const cursorAt = m.cpu(cpu, CPU_FIELD.TLB_CURSOR);
    const way = mem[cursorAt] % TLB_WAYS;
    mem[cursorAt] = way + 1;
    victim = m.tlbEntry(cpu, base2 + way);
  }
  dropEntry(m, victim);
  Atomics.add(mem, m.page(pteFrame(pte), PAGE_FIELD.TLB_REFS), 1);
  mem[victim + TLB_FIELD.VPN] = vpn;
  mem[victim + TLB_FIELD.PTE] = pte;
  mem[victim + TLB_FIELD.GEN] = gen;
  Atomics.store(mem, victim + TLB_FIELD.TAG, mm + 1);
}
function tlbFlushOne(m, cpu, mm, vpn) {
  const base2 = setBase(m, cpu, mm, vpn);
  for (let w = 0; w < TLB_WAYS; w++) {
    const e = m.tlbEntry(cpu, base2 + w);
    if (m.mem[e + TLB_FIELD.TAG] === mm + 1 && m.mem[e + TLB_FIELD.VPN] === vpn) dropEntry(m, e);
  }
}
function tlbFlushAll(m, cpu) {
  for (let s = 0; s < m.size.tlbEntries; s++) dropEntry(m, m.tlbEntry(cpu, s));
}
function cpusHoldingFrame(m, frame) {
  const out = [];
  const mem = m.mem;
  for (let cpu = 0; cpu < m.size.cpus; cpu++) {
    for (let s = 0; s < m.size.tlbEntries; s++) {
      const e = m.tlbEntry(cpu, s);
      const tag = Atomics.load(mem, e + TLB_FIELD.TAG);
      if (tag !== 0 && pteFrame(mem[e + TLB_FIELD.PTE]) === frame) out.push({ cpu, mm: tag - 1, vpn: mem[e + TLB_FIELD.VPN] });
    }
  }
  return out;
}
function tlbEntriesInRange(m, mm, start, end) {
  const out = [];
  const mem = m.mem;
  for (let cpu = 0; cpu < m.size.cpus; cpu++) {
    for (let s = 0; s < m.size.tlbEntries; s++) {
      const e = m.tlbEntry(cpu, s);
      if (Atomics.load(mem, e + TLB_FIELD.TAG) !== mm + 1) continue;
      const vpn = mem[e + TLB_FIELD.VPN];
      const pte = mem[e + TLB_FIELD.PTE];
      const gen = mem[e + TLB_FIELD.GEN];
      if (Atomics.load(mem, e + TLB_FIELD.TAG) !== mm + 1 || mem[e + TLB_FIELD.VPN] !== vpn) continue;
      if (vpn >= start && vpn < end) out.push({ cpu, vpn, pte, gen });
    }
  }
  return out;
}

// src/cpu/tlbflush.ts
function bit(cpu) {
  return 1 << cpu;
}
function popcount(mask) {
  let n = 0;
  for (let x = mask >>> 0; x !== 0; x &= x - 1) n++;
  return n;
}
function activeMm(ctx, cpu = ctx.cpu) {
  return Atomics.load(ctx.mem, ctx.m.cpu(cpu, CPU_FIELD.ACTIVE_MM)) - 1;
}
function localFlush(ctx) {
  tlbFlushAll(ctx.m, ctx.cpu);
  charge(ctx, ctx.costs.tlbFlushAllNs);
  ctx.stats.tlbFlushesLocal++;
}
function ackNsAt(ctx, sender, cpu) {
  return ctx.m.cpu(sender, CPU_FIELD.FLUSH_ACK_NS) + cpu * NS_WORDS;
}
function leaveMm(ctx) {
  const m = ctx.m;
  modelAssert(ctx.mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] === TlbState.LAZY, "leave_mm in TLBSTATE_OK", () => `cpu ${ctx.cpu}`);
  const mm = activeMm(ctx);
  if (mm >= 0) Atomics.and(ctx.mem, m.mm(mm, MM_FIELD.CPUMASK), ~bit(ctx.cpu));
  tlbFlushAll(m, ctx.cpu);
}
function switchMm(ctx, next) {
  const m = ctx.m;
  const mem = ctx.mem;
  const prev = activeMm(ctx);
  if (prev !== next) {
    if (prev >= 0) Atomics.and(mem, m.mm(prev, MM_FIELD.CPUMASK), ~bit(ctx.cpu));
    mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] = TlbState.OK;
    Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.ACTIVE_MM), next + 1);
    Atomics.or(mem, m.mm(next, MM_FIELD.CPUMASK), bit(ctx.cpu));
    tlbFlushAll(m, ctx.cpu);
    return;
  }
  mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] = TlbState.OK;
  const was = Atomics.or(mem, m.mm(next, MM_FIELD.CPUMASK), bit(ctx.cpu));
  if ((was & bit(ctx.cpu)) === 0) tlbFlushAll(m, ctx.cpu);
}
function enterLazyTlb(ctx) {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE);
  if (ctx.mem[at] === TlbState.OK) ctx.mem[at] = TlbState.LAZY;
}
function serviceIpis(ctx, arrivedByNs = Infinity) {
  const m = ctx.m;
  const mem = ctx.mem;
  const pendingAt = m.cpu(ctx.cpu, CPU_FIELD.IPI_PENDING);
  if (Atomics.load(mem, pendingAt) === 0) return 0;
  let pending = Atomics.load(mem, pendingAt);
  if (ctx.modelClocks && arrivedByNs !== Infinity) {
    for (let sender = 0; sender < m.size.cpus; sender++) {
      if ((pending & bit(sender)) !== 0 && loadNs(mem, m.cpu(sender, CPU_FIELD.FLUSH_SENT_NS)) + ctx.costs.ipiDeliveryNs > arrivedByNs) pending &= ~bit(sender);
    }
    if (pending === 0) return 0;
  }
  pending = Atomics.and(mem, pendingAt, ~pending) & pending;
  ctx.trace?.counter(`CPU ${ctx.cpu} pending IPIs`, ctx.now(), 0);
  let handled = 0;
  for (let sender = 0; sender < m.size.cpus; sender++) {
    if ((pending & bit(sender)) === 0) continue;
    handled++;
    const maskAt = m.cpu(sender, CPU_FIELD.FLUSH_CPUMASK);
    if ((Atomics.load(mem, maskAt) & bit(ctx.cpu)) === 0) continue;
    const arrivalNs = loadNs(mem, m.cpu(sender, CPU_FIELD.FLUSH_SENT_NS)) + ctx.costs.ipiDeliveryNs;
    const lateNs = ctx.modelClocks ? Math.max(0, ctx.clockNs - arrivalNs) : 0;
    clockAtLeast(ctx, arrivalNs);
    charge(ctx, ctx.costs.ipiHandlerNs);
    const startUs = ctx.trace ? ctx.now() : 0;
    const flushMm = Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_MM)) - 1;
    const flushVa = Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_VA)) - 1;
    if (flushMm >= 0 && flushMm === activeMm(ctx)) {
      if (mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] === TlbState.OK) {
        if (flushVa < 0) tlbFlushAll(m, ctx.cpu);
        else tlbFlushOne(m, ctx.cpu, flushMm, flushVa);
        charge(ctx, flushVa < 0 ? ctx.costs.tlbFlushAllNs : ctx.costs.tlbFlushOneNs);
        ctx.cpuStats.tlbFlushesLocal++;
      } else if (!ctx.traits.skipLazyLeave) {
        leaveMm(ctx);
        charge(ctx, ctx.costs.tlbFlushAllNs);
        mark("lazyLeave");
        ctx.cpuStats.lazyLeaves++;
      }
    }
    if (ctx.trace) {
      const endUs = ctx.now();
      ctx.trace.slice("smp_invalidate_interrupt", "ipi", startUs, endUs, { sender });
      ctx.trace.flow("t", ipiFlowId(sender, Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_SEQ)), ctx.cpu), startUs);
    }
    storeNs(mem, ackNsAt(ctx, sender, ctx.cpu), ctx.clockNs - lateNs);
    Atomics.and(mem, maskAt, ~bit(ctx.cpu));
    kickCpu(m, sender);
  }
  ctx.cpuStats.ipisHandled += handled;
  return handled;
}
function* flushTlbOthers(ctx, mask, mm, vpn) {
  const m = ctx.m;
  const mem = ctx.mem;
  modelAssert(!irqsDisabled(ctx), "flush_tlb_others with interrupts disabled", () => `cpu ${ctx.cpu} would deadlock against a flush aimed at it`);
  const maskAt = m.cpu(ctx.cpu, CPU_FIELD.FLUSH_CPUMASK);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_MM), mm + 1);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_VA), vpn + 1);
  Atomics.store(mem, maskAt, mask);
  const seq = Atomics.add(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_SEQ), 1) + 1;
  storeNs(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_SENT_NS), ctx.clockNs);
  const trace = ctx.trace && ctx.trace.hasRoom(2 * m.size.cpus) ? ctx.trace : null;
  for (let target = 0; target < m.size.cpus; target++) {
    if ((mask & bit(target)) === 0) continue;
    trace?.flow("s", ipiFlowId(ctx.cpu, seq, target), ctx.now());
    const pendingAt = m.cpu(target, CPU_FIELD.IPI_PENDING);
    const pendingNow = Atomics.or(mem, pendingAt, bit(ctx.cpu)) | bit(ctx.cpu);
    trace?.counter(`CPU ${target} pending IPIs`, ctx.now(), popcount(pendingNow));
    kickCpu(m, target);
    ctx.stats.ipisSent++;
  }
  yield Step.IPI;
  if (ctx.traits.noAckWait) return;
  const sentUs = ctx.now();
  const sentHostUs = ctx.watchIsHost ? ctx.watchNow() : 0;
  if (Atomics.load(mem, maskAt) !== 0) {
    const watch = new SpinWatch(ctx, "flush_tlb_others ack wait");
    do {
      watch.tick();
      yield Step.SPIN;
    } while (Atomics.load(mem, maskAt) !== 0);
  }
  let lastAckNs = 0;
  for (let target = 0; target < m.size.cpus; target++) if ((mask & bit(target)) !== 0) lastAckNs = Math.max(lastAckNs, loadNs(mem, ackNsAt(ctx, ctx.cpu, target)));
  clockAtLeast(ctx, lastAckNs + ctx.costs.cacheLineTransferNs);
  const ackedUs = ctx.now();
  ctx.lat.recordUs("ipiAckWait", ackedUs - sentUs);
  if (ctx.watchIsHost) ctx.lat.hostIpiAckWait.recordUs(ctx.watchNow() - sentHostUs);
  if (trace) {
    for (let target = 0; target < m.size.cpus; target++) if ((mask & bit(target)) !== 0) trace.flow("f", ipiFlowId(ctx.cpu, seq, target), ackedUs);
  }
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_MM), 0);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_VA), 0);
}
function* flushTlb(ctx, mm, vpn, staleMask) {
  const startUs = ctx.trace ? ctx.now() : 0;
  const caller = fnEnter(ctx, vpn < 0 ? "flush_tlb_mm" : "flush_tlb_page");
  if (!ctx.traits.flushPreemptible) preemptDisable(ctx, vpn < 0 ? "flush_tlb_mm" : "flush_tlb_page");
  if (activeMm(ctx) === mm) {
    if (ctx.mm !== mm) {
      leaveMm(ctx);
      charge(ctx, ctx.costs.tlbFlushAllNs);
    } else if (vpn < 0) {
      localFlush(ctx);
    } else {
      tlbFlushOne(ctx.m, ctx.cpu, mm, vpn);
      charge(ctx, ctx.costs.tlbFlushOneNs);
    }
  }
  const mask = (staleMask ?? Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.CPUMASK))) & ~bit(ctx.cpu);
  if (mask !== 0 && !ctx.traits.noIpi) yield flushTlbOthers(ctx, mask, mm, vpn);
  yield Step.TLB;
  ctx.trace?.slice(vpn < 0 ? "flush_tlb_mm" : "flush_tlb_page", "tlb", startUs, ctx.now(), { mm, targets: mask });
  if (!ctx.traits.flushPreemptible) yield preemptEnable(ctx, vpn < 0 ? "flush_tlb_mm" : "flush_tlb_page");
  ctx.fn = caller;
}
function flushTlbMm(ctx, mm, staleMask) {
  return flushTlb(ctx, mm, -1, staleMask);
}
function mmCpumask(ctx, mm) {
  return Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.CPUMASK));
}
function flushTlbPage(ctx, mm, vpn) {
  return flushTlb(ctx, mm, vpn);
}
function cpusOnline(ctx) {
  return ctx.mem[HDR.ONLINE_CPUS];
}

// src/sync/spinlock.ts
var LockClass = {
  PTE_LOCK: "ptlock_ptr(page)",
  PAGE_TABLE_LOCK: "&mm->page_table_lock",
  ZONE_LOCK: "&zone->lock",
  MMAP_SEM: "&mm->mmap_sem",
  I_MMAP_LOCK: "&mapping->i_mmap_lock",
  I_MMAP_MUTEX: "&mapping->i_mmap_mutex",
  TREE_LOCK: "&mapping->tree_lock",
  RWSEM_WAIT_LOCK: "&sem->wait_lock",
  MUTEX_WAIT_LOCK: "&lock->wait_lock"
};
var LOCK_WHERE = Object.fromEntries(Object.values(LockClass).map((c) => [c, `spin_lock(${c})`]));
var UNLOCK_WHERE = Object.fromEntries(Object.values(LockClass).map((c) => [c, `spin_unlock(${c})`]));
function ns(us) {
  return Math.round(us * 1e3);
}
function* acquire(ctx, lock, cls, site) {
  const mem = ctx.mem;
  const ticket = Atomics.add(mem, lock + LOCK.NEXT, 1);
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  const contended = Atomics.load(mem, lock + LOCK.SERVING) !== ticket;
  if (contended) {
    const watch = new SpinWatch(ctx, cls, 1, lock);
    do {
      watch.tick();
      yield Step.SPIN;
    } while (Atomics.load(mem, lock + LOCK.SERVING) !== ticket);
    watch.end();
  }
  const last = Atomics.exchange(mem, lock + LOCK.OWNER, ctx.cpu + 1);
  const bounced = last !== 0 && last !== ctx.cpu + 1;
  clockAtLeast(ctx, loadNs(mem, lock + LOCK.RELEASE_NS) + (bounced ? ctx.costs.cacheLineTransferNs : 0));
  if (ctx.timesLocks) {
    const nowUs = ctx.now();
    ctx.lockStat.acquired(cls, site, contended, ns(nowUs - startUs), bounced);
    if (cls === LockClass.PTE_LOCK) ctx.lat.recordUs("pteLockWait", nowUs - startUs);
    ctx.lockSinceUs.set(lock, nowUs);
  }
  yield Step.LOCK;
}
function spinIsLocked(mem, lock) {
  return Atomics.load(mem, lock + LOCK.NEXT) !== Atomics.load(mem, lock + LOCK.SERVING);
}
function release(ctx, lock, cls) {
  const mem = ctx.mem;
  const owner = Atomics.load(mem, lock + LOCK.OWNER);
  if (!spinIsLocked(mem, lock) || owner !== ctx.cpu + 1) {
    const holder = spinIsLocked(mem, lock) ? `cpu ${owner - 1}` : "nobody";
    ctx.oracle.report("LOCK_NOT_OWNER", { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `${cls} released by cpu ${ctx.cpu}, held by ${holder}`);
    return;
  }
  const since = ctx.lockSinceUs.take(lock);
  if (since !== void 0) {
    const nowUs = ctx.now();
    const heldUs = nowUs - since;
    ctx.lockStat.released(cls, ns(heldUs));
    ctx.trace?.slice(cls, "lock", since, nowUs);
    if (cls === LockClass.PTE_LOCK) ctx.lat.recordUs("pteLockHold", heldUs);
  }
  storeNs(mem, lock + LOCK.RELEASE_NS, ctx.clockNs);
  Atomics.add(mem, lock + LOCK.SERVING, 1);
  kickWaiters(ctx.m, lock);
}
function* spinLock(ctx, lock, cls, site) {
  preemptDisable(ctx, LOCK_WHERE[cls]);
  yield acquire(ctx, lock, cls, site);
}
function* spinUnlock(ctx, lock, cls) {
  release(ctx, lock, cls);
  yield Step.LOCK;
  yield preemptEnable(ctx, UNLOCK_WHERE[cls]);
}
function* spinLockIrqsave(ctx, lock, cls, site) {
  localIrqSave(ctx, LOCK_WHERE[cls]);
  preemptDisable(ctx, LOCK_WHERE[cls]);
  yield acquire(ctx, lock, cls, site);
}
function* spinUnlockIrqrestore(ctx, lock, cls) {
  release(ctx, lock, cls);
  localIrqRestore(ctx, UNLOCK_WHERE[cls]);
  yield Step.LOCK;
  yield preemptEnable(ctx, UNLOCK_WHERE[cls]);
}
function spinNeedbreak(ctx, lock) {
  if (ctx.config.preempt !== "full") return false;
  return Atomics.load(ctx.mem, lock + LOCK.NEXT) - Atomics.load(ctx.mem, lock + LOCK.SERVING) > 1;
}

// src/page/alloc.ts
var ZERO_PAGE = 1;
var FIRST_FREE_FRAME = 2;
var PAGEVEC_SIZE = 14;
function initAllocator(mem, m) {
  const pages = m.size.pages;
  for (let f = 0; f < FIRST_FREE_FRAME; f++) mem[m.page(f, PAGE_FIELD.STATE)] = PageState.RESERVED;
  let top = 0;
  for (let f = pages - 1; f >= FIRST_FREE_FRAME; f--) mem[m.freeStackBase + top++] = f;
  mem[HDR.FREE_TOP] = top;
  for (let s = 0; s < m.size.ptSlots; s++) mem[m.ptFreeStackBase + s] = m.size.ptSlots - 1 - s;
  mem[HDR.PT_FREE_TOP] = m.size.ptSlots;
}
function gfpFails(ctx, gfp) {
  if (gfp !== "GFP_NOWAIT") return false;
  const policy = ctx.config.allocFail;
  if (policy.kind === "never") return false;
  if (policy.kind === "always") return true;
  if (policy.kind === "once") return ctx.gfpNowaitCalls++ === 0;
  return ctx.rng.chance(policy.p);
}
function* allocPage(ctx, gfp, state) {
  if (gfp === "GFP_KERNEL") yield mightSleep(ctx, "alloc_page(GFP_KERNEL)");
  if (gfpFails(ctx, gfp)) return 0;
  const { m, mem } = ctx;
  yield spinLockIrqsave(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK, "__alloc_pages");
  const top = mem[HDR.FREE_TOP];
  let slot = -1;
  if (state === PageState.PAGETABLE && top > 0) {
    const ptTop = mem[HDR.PT_FREE_TOP];
    if (ptTop > 0) {
      mem[HDR.PT_FREE_TOP] = ptTop - 1;
      slot = mem[m.ptFreeStackBase + ptTop - 1];
    }
  }
  const frame = top > 0 && (state !== PageState.PAGETABLE || slot >= 0) ? mem[m.freeStackBase + top - 1] : 0;
  if (frame !== 0) mem[HDR.FREE_TOP] = top - 1;
  ctx.trace?.counter("free pages", ctx.now(), mem[HDR.FREE_TOP]);
  yield spinUnlockIrqrestore(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK);
  if (frame === 0) {
    if (gfp === "GFP_NOWAIT") return 0;
    throw new OutOfMemory(`cpu ${ctx.cpu}: no free ${state === PageState.PAGETABLE ? "page-table storage" : "frame"} for a GFP_KERNEL allocation; the run needs more --memory`);
  }
  modelAssert(mem[m.page(frame, PAGE_FIELD.STATE)] === PageState.FREE, "allocated frame not free", () => `frame ${frame}`);
  mem[m.page(frame, PAGE_FIELD.REFCOUNT)] = 1;
  mem[m.page(frame, PAGE_FIELD.MAPCOUNT)] = 0;
  mem[m.page(frame, PAGE_FIELD.MM)] = 0;
  mem[m.page(frame, PAGE_FIELD.INDEX)] = 0;
  mem[m.page(frame, PAGE_FIELD.PT_SLOT)] = slot + 1;
  mem[m.page(frame, PAGE_FIELD.FLAGS)] = 0;
  mem[m.page(frame, PAGE_FIELD.VERSION)] = 0;
  mem[m.page(frame, PAGE_FIELD.MKCLEAN_BUSY)] = 0;
  mem[m.page(frame, PAGE_FIELD.PTL + LOCK.NEXT)] = 0;
  mem[m.page(frame, PAGE_FIELD.PTL + LOCK.SERVING)] = 0;
  mem[m.page(frame, PAGE_FIELD.PTL + LOCK.OWNER)] = 0;
  Atomics.add(mem, m.page(frame, PAGE_FIELD.GEN), 1);
  Atomics.store(mem, m.page(frame, PAGE_FIELD.STATE), state);
  return frame;
}
function checkFree(ctx, frame) {
  const { m, mem } = ctx;
  const state = Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE));
  if (state === PageState.FREE || state === PageState.RESERVED) {
    ctx.oracle.report("DOUBLE_FREE", { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm, frame }, `frame ${frame} freed while ${state === PageState.FREE ? "already free" : "reserved"}`);
    return false;
  }
  if (Atomics.load(mem, m.page(frame, PAGE_FIELD.TLB_REFS)) > 0) {
    const remote = cpusHoldingFrame(m, frame).filter((h) => h.cpu !== ctx.cpu);
    if (remote.length > 0) {
      const h = remote[0];
      ctx.oracle.report(
        "FREE_WHILE_REMOTE_TLB",
        { cpu: ctx.cpu, task: ctx.task, mm: h.mm, address: h.vpn * 4096, frame },
        `frame ${frame} freed by cpu ${ctx.cpu} while cpu ${h.cpu}'s TLB maps vpn ${h.vpn} of mm ${h.mm} to it`
      );
    }
  }
  if (state === PageState.PAGETABLE) {
    const base2 = m.ptSlotBase(mem[m.page(frame, PAGE_FIELD.PT_SLOT)] - 1);
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      if (mem[base2 + i] === 0) continue;
      ctx.oracle.report("FREE_LIVE_PAGE_TABLE", { cpu: ctx.cpu, task: ctx.task, mm: mem[m.page(frame, PAGE_FIELD.MM)] - 1, frame }, `page table ${frame} freed while its entry ${i} is live`);
      return false;
    }
  }
  return true;
}
function freeLocked(ctx, frames, from, to) {
  const { m, mem } = ctx;
  for (let i = from; i < to; i++) {
    const frame = frames[i];
    if (!checkFree(ctx, frame)) continue;
    ctx.trace?.instant("free page", "page", ctx.now(), { frame });
    const state = mem[m.page(frame, PAGE_FIELD.STATE)];
    if (state === PageState.ANON || state === PageState.PAGECACHE) ctx.stats.pagesFreed++;
    else if (state === PageState.PAGETABLE) ctx.stats.pageTablesFreed++;
    if (ctx.ptlHeld > 0) {
      ctx.stats.pagesFreedUnderPteLock++;
      ctx.ptlFreedThisHold++;
      if (ctx.ptlFreedThisHold > ctx.stats.maxPagesFreedInOnePteLockHold) ctx.stats.maxPagesFreedInOnePteLockHold = ctx.ptlFreedThisHold;
    }
    const slot = mem[m.page(frame, PAGE_FIELD.PT_SLOT)] - 1;
    if (slot >= 0) {
      mem[m.ptFreeStackBase + mem[HDR.PT_FREE_TOP]] = slot;
      mem[HDR.PT_FREE_TOP]++;
      mem[m.page(frame, PAGE_FIELD.PT_SLOT)] = 0;
    }
    mem[m.page(frame, PAGE_FIELD.REFCOUNT)] = 0;
    mem[m.page(frame, PAGE_FIELD.MAPCOUNT)] = 0;
    mem[m.page(frame, PAGE_FIELD.MM)] = 0;
    Atomics.store(mem, m.page(frame, PAGE_FIELD.STATE), PageState.FREE);
    const top = mem[HDR.FREE_TOP];
    modelAssert(top < m.size.pages, "free stack overflow", () => `frame ${frame}`);
    mem[m.freeStackBase + top] = frame;
    mem[HDR.FREE_TOP] = top + 1;
  }
}
function putPageTestzero(ctx, frame) {
  if (ctx.mem[ctx.m.page(frame, PAGE_FIELD.STATE)] !== PageState.PAGECACHE) return true;
  const left = Atomics.sub(ctx.mem, ctx.m.page(frame, PAGE_FIELD.REFCOUNT), 1) - 1;
  modelAssert(left >= 0, "page-cache page put more often than it was got", () => `frame ${frame}: count ${left}`);
  return left === 0;
}
function* freePages(ctx, frames, nr) {
  for (let from = 0; from < nr; from += PAGEVEC_SIZE) {
    const to = Math.min(nr, from + PAGEVEC_SIZE);
    let last = null;
    for (let i = from; i < to; i++) {
      if (putPageTestzero(ctx, frames[i])) last?.push(frames[i]);
      else last ??= Array.from({ length: i - from }, (_, k) => frames[from + k]);
    }
    if (last !== null && last.length === 0) continue;
    yield spinLockIrqsave(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK, "free_pages_and_swap_cache");
    if (last === null) freeLocked(ctx, frames, from, to);
    else freeLocked(ctx, last, 0, last.length);
    yield Step.FREE;
    ctx.trace?.counter("free pages", ctx.now(), ctx.mem[HDR.FREE_TOP]);
    yield spinUnlockIrqrestore(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK);
  }
}
function getPage(ctx, frame) {
  modelAssert(Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.STATE)) === PageState.PAGECACHE, "get_page on a page that is not in the page cache", () => `frame ${frame}`);
  const was = Atomics.add(ctx.mem, ctx.m.page(frame, PAGE_FIELD.REFCOUNT), 1);
  modelAssert(was > 0, "get_page on a page with no reference", () => `frame ${frame}`);
}
function* freePage(ctx, frame) {
  yield freePages(ctx, [frame], 1);
}

// src/gather/gather.ts
function gatherDone(ctx, tlb) {
  ctx.gatherDepth--;
  if (tlb.traceId) ctx.trace?.gatherEnd(tlb.traceId, ctx.now(), ctx.traits.design);
}
function* tlbRemovePage(ctx, tlb, frame) {
  const left = yield* tlb.removePage(ctx, frame);
  if (left === 0) yield tlb.flushMmu(ctx);
}
function countFlush(ctx) {
  ctx.stats.gatherFlushes++;
  if (ctx.ptlHeld > 0) ctx.stats.flushesUnderPteLock++;
  return ctx.now();
}

// src/gather/legacy.ts
var FREE_PTE_NR = 506;
var FAST_MODE_NR = -1;
var PerCpuGather = class {
  constructor(ctx, cpu) {
    this.ctx = ctx;
    this.cpu = cpu;
    this.at = (field) => ctx.m.cpu(cpu, field);
  }
  ctx;
  cpu;
  traceId = null;
  at;
  get mem() {
    return this.ctx.mem;
  }
  get mm() {
    return this.mem[this.at(CPU_FIELD.GATHER_MM)] - 1;
  }
  get fullmm() {
    return this.mem[this.at(CPU_FIELD.GATHER_FULLMM)] !== 0;
  }
  get fastMode() {
    return this.mem[this.at(CPU_FIELD.GATHER_NR)] === FAST_MODE_NR;
  }
  queued() {
    return this.fastMode ? 0 : this.mem[this.at(CPU_FIELD.GATHER_NR)];
  }
  setNeedFlush() {
    this.mem[this.at(CPU_FIELD.GATHER_NEED_FLUSH)] = 1;
  }
  *removePage(ctx, frame) {
    this.setNeedFlush();
    if (this.fastMode) {
      yield freePage(ctx, frame);
      return 1;
    }
    const nrAt = this.at(CPU_FIELD.GATHER_NR);
    const nr = this.mem[nrAt];
    this.mem[this.at(CPU_FIELD.GATHER_PAGES + nr)] = frame;
    this.mem[nrAt] = nr + 1;
    if (nr + 1 >= FREE_PTE_NR) {
      if (ctx.ptlHeld > 0) mark("flushUnderPteLock");
      yield this.flushMmu(ctx);
    }
    return 1;
  }
  *flushMmu(ctx) {
    const needAt = this.at(CPU_FIELD.GATHER_NEED_FLUSH);
    if (this.mem[needAt] === 0) return;
    const caller = fnEnter(ctx, "tlb_flush_mmu");
    this.mem[needAt] = 0;
    const startUs = countFlush(ctx);
    yield flushTlbMm(ctx, this.mm);
    if (!this.fastMode) {
      const nr = this.mem[this.at(CPU_FIELD.GATHER_NR)];
      const base2 = this.at(CPU_FIELD.GATHER_PAGES);
      yield freePages(ctx, this.mem.subarray(base2, base2 + nr), nr);
      this.mem[this.at(CPU_FIELD.GATHER_NR)] = 0;
    }
    ctx.lat.recordUs("gatherFlush", ctx.now() - startUs);
    ctx.fn = caller;
  }
  *finishMmu(ctx) {
    const caller = fnEnter(ctx, "tlb_finish_mmu");
    yield this.flushMmu(ctx);
    this.mem[this.at(CPU_FIELD.GATHER_IN_USE)] = 0;
    gatherDone(ctx, this);
    if (!ctx.traits.gatherPreemptible) yield preemptEnable(ctx, "tlb_finish_mmu");
    ctx.fn = caller;
  }
};
function legacyGatherMmu(ctx, mm, fullmm) {
  if (!ctx.traits.gatherPreemptible) preemptDisable(ctx, "tlb_gather_mmu");
  const { m, mem } = ctx;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_MM)] = mm + 1;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_NR)] = cpusOnline(ctx) > 1 ? 0 : FAST_MODE_NR;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_FULLMM)] = fullmm ? 1 : 0;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_IN_USE)] = ctx.task + 1;
  return new PerCpuGather(ctx, ctx.cpu);
}

// src/gather/rework.ts
var MMU_GATHER_BUNDLE = 8;
var BATCH_PAGE_SLOTS = PAGE_SIZE / 8;
var FAST_MODE_NR2 = -1;
var spareBatchSlots = [];
var SPARE_BATCH_SLOTS_MAX = 16;
var OnStackGather = class {
  constructor(mm, fullmm, fast) {
    this.mm = mm;
    this.fullmm = fullmm;
    this.nr = fast ? FAST_MODE_NR2 : 0;
  }
  mm;
  fullmm;
  traceId = null;
  /** mm_cpumask when the gather began (the stale-cpumask mutant flushes these cpus). */
  cpumaskAtGather = 0;
  nr;
  max = MMU_GATHER_BUNDLE;
  needFlush = false;
  /** The batch page's frame, 0 while the local array is in use. */
  batchFrame = 0;
  local = new Int32Array(MMU_GATHER_BUNDLE);
  pages = this.local;
  get fastMode() {
    return this.nr === FAST_MODE_NR2;
  }
  queued() {
    return this.fastMode ? 0 : this.nr;
  }
  setNeedFlush() {
    this.needFlush = true;
  }
  /** __tlb_alloc_page. */
  *allocBatch(ctx) {
    const frame = yield* allocPage(ctx, "GFP_NOWAIT", PageState.BATCH);
    if (frame === 0) {
      mark("batchPageFallback");
      ctx.stats.batchAllocFailures++;
      return;
    }
    ctx.stats.batchAllocs++;
    this.batchFrame = frame;
    this.pages = spareBatchSlots.pop() ?? new Int32Array(BATCH_PAGE_SLOTS);
    this.max = BATCH_PAGE_SLOTS;
  }
  *removePage(ctx, frame) {
    this.needFlush = true;
    if (this.fastMode) {
      yield freePage(ctx, frame);
      return 1;
    }
    if (ctx.traits.lostForceFlush && this.nr === this.max) return 0;
    this.pages[this.nr++] = frame;
    modelAssert(this.nr <= this.max, "VM_BUG_ON(tlb->nr > tlb->max)", () => `nr ${this.nr} max ${this.max}`);
    return this.max - this.nr;
  }
  *flushMmu(ctx) {
    if (!this.needFlush) return;
    const caller = fnEnter(ctx, "tlb_flush_mmu");
    this.needFlush = false;
    const startUs = countFlush(ctx);
    if (ctx.traits.freeBeforeFlush && !this.fastMode) {
      yield freePages(ctx, this.pages, this.nr);
      this.nr = 0;
    }
    if (!(this.fullmm && ctx.traits.fullmmNoFlush)) yield flushTlbMm(ctx, this.mm, ctx.traits.staleCpumask ? this.cpumaskAtGather : void 0);
    if (!this.fastMode) {
      yield freePages(ctx, this.pages, this.nr);
      this.nr = 0;
      if (this.pages === this.local) yield this.allocBatch(ctx);
    }
    ctx.lat.recordUs("gatherFlush", ctx.now() - startUs);
    ctx.fn = caller;
  }
  *finishMmu(ctx) {
    const caller = fnEnter(ctx, "tlb_finish_mmu");
    yield this.flushMmu(ctx);
    if (this.pages !== this.local) {
      yield freePage(ctx, this.batchFrame);
      this.batchFrame = 0;
      if (spareBatchSlots.length < SPARE_BATCH_SLOTS_MAX) spareBatchSlots.push(this.pages);
      this.pages = this.local;
    }
    gatherDone(ctx, this);
    ctx.fn = caller;
  }
};
function* reworkGatherMmu(ctx, mm, fullmm) {
  const fast = cpusOnline(ctx) <= 1;
  const tlb = new OnStackGather(mm, fullmm, fast);
  tlb.cpumaskAtGather = mmCpumask(ctx, mm);
  if (!fast) yield tlb.allocBatch(ctx);
  return tlb;
}

// src/gather/variants.ts
var base = {
  mutant: false,
  huntWith: {},
  rssInitBeforeAgain: false,
  freeBeforeFlush: false,
  noAckWait: false,
  noIpi: false,
  skipLazyLeave: false,
  gatherPreemptible: false,
  lostForceFlush: false,
  unlockBeforeClear: false,
  staleCpumask: false,
  fullmmNoFlush: false,
  mkcleanNoFlush: false,
  mprotectNoFlush: false,
  wpFaultNoDirty: false,
  flushPreemptible: false
};
var legacy = {
  ...base,
  name: "legacy",
  design: "legacy",
  about: "2.6.38: per-cpu gather of 506 pages, preemption off from gather to finish, a full batch flushed under the pte lock"
};
var rework = {
  ...base,
  name: "rework",
  design: "rework",
  about: "mm: mmu_gather rework, rss accounting corrected: on-stack gather, 8 local slots or a 512-slot GFP_NOWAIT page, flush outside the pte lock"
};
function mutant(from, name, about, flip, huntWith = {}) {
  return { ...from, ...flip, name, about, mutant: true, huntWith };
}
var VARIANTS = [
  legacy,
  rework,
  mutant(rework, "rework-seed", "the seed as committed: init_rss_vec() before again:, so a forced restart applies rss deltas twice", { rssInitBeforeAgain: true }, { pages: 1e3, preempt: "none" }),
  mutant(rework, "free-before-flush", "tlb_flush_mmu frees the batch before flushing the TLBs", { freeBeforeFlush: true }, { pages: 200 }),
  mutant(rework, "no-ack-wait", "flush_tlb_others sends the IPIs and does not wait for the acknowledgements", { noAckWait: true }, { pages: 200 }),
  mutant(rework, "no-ipi", "flush_tlb_others tells no remote cpu: only the local TLB is flushed", { noIpi: true }, { pages: 200 }),
  mutant(rework, "skip-lazy-leave", "a lazy cpu acks the flush IPI without leave_mm: it keeps its TLB and stays in mm_cpumask", { skipLazyLeave: true }, { workload: "exit", pages: 200 }),
  mutant(legacy, "legacy-preemptible", "the 2.6.38 per-cpu gather without disabling preemption: another task on the cpu can take it over", { gatherPreemptible: true }, { workload: "munmap", cpus: 1, tasksPerCpu: 2, mms: 2, pages: 64 }),
  mutant(rework, "lost-force-flush", "zap_pte_range ignores a full batch: the pages that do not fit are dropped, never freed", { lostForceFlush: true }, { pages: 1e3 }),
  mutant(rework, "unlock-before-clear", "zap_pte_range drops the pte lock between reading a pte and clearing it", { unlockBeforeClear: true }, { workload: "madvise", overlap: true, pages: 64 }),
  mutant(rework, "stale-cpumask", "the flush targets mm_cpumask as it was at tlb_gather_mmu, missing cpus that loaded the mm since", { staleCpumask: true }, { workload: "munmap", cpus: 2, tasksPerCpu: 2, mms: 2, pages: 4096 }),
  mutant(rework, "mkclean-no-flush", "page_mkclean_one write-protects and cleans the pte without flushing it from the TLBs", { mkcleanNoFlush: true }, { workload: "writeback" }),
  mutant(rework, "mprotect-no-flush", "change_protection makes the ptes read-only without flush_tlb_range", { mprotectNoFlush: true }, { workload: "writeback" }),
  mutant(rework, "wp-fault-no-dirty", "do_wp_page makes a shared pte writable again without set_page_dirty", { wpFaultNoDirty: true }, { workload: "writeback" }),
  mutant(rework, "flush-preemptible", "flush_tlb_mm leaves preemption on while it waits for the acks, so another task of the cpu can take over its per-cpu IPI sender slot", { flushPreemptible: true }, { workload: "munmap", cpus: 3, tasksPerCpu: 2, mms: 2, pages: 64 }),
  mutant(rework, "fullmm-no-flush", "a fullmm gather (exit_mmap) frees without flushing, as if no other cpu could still hold the mm", { fullmmNoFlush: true }, { workload: "exit", pages: 200 })
];
function findVariant(name) {
  return VARIANTS.find((v) => v.name === name);
}
function* tlbGatherMmu(ctx, mm, fullmm) {
  const tlb = ctx.traits.design === "legacy" ? legacyGatherMmu(ctx, mm, fullmm) : yield* reworkGatherMmu(ctx, mm, fullmm);
  ctx.gatherDepth++;
  tlb.traceId = ctx.trace?.gatherBegin(ctx.now(), ctx.task, ctx.traits.design) ?? null;
  return tlb;
}

// src/sync/sched.ts
var HUNG_TASK_LOCKUPS = 60;
function setCurrentSleeping(ctx) {
  Atomics.store(ctx.mem, ctx.m.task(ctx.task, TASK_FIELD.STATE), TaskState.SLEEPING);
}
function setCurrentRunning(ctx) {
  Atomics.store(ctx.mem, ctx.m.task(ctx.task, TASK_FIELD.STATE), TaskState.RUNNING);
}
function* schedule(ctx) {
  yield Step.SLEEP;
}
function* scheduleTimeout(ctx, us) {
  setCurrentSleeping(ctx);
  ctx.timerWakeAtNs = ctx.clockNs + Math.round(us * 1e3);
  yield schedule(ctx);
  ctx.timerWakeAtNs = Infinity;
}
function wakeUpProcess(ctx, task, preempt = false) {
  const { m, mem } = ctx;
  if (Atomics.load(mem, m.task(task, TASK_FIELD.STATE)) !== TaskState.SLEEPING) return false;
  storeNs(mem, m.task(task, TASK_FIELD.WAKE_NS), ctx.clockNs);
  const was = Atomics.compareExchange(mem, m.task(task, TASK_FIELD.STATE), TaskState.SLEEPING, TaskState.RUNNING);
  if (was !== TaskState.SLEEPING) return false;
  const cpu = mem[m.task(task, TASK_FIELD.CPU)];
  const actAt = cpu * CLOCK_STRIDE + CLOCK_SLOT.ACT;
  if (cpu !== ctx.cpu && m.clocks[actAt] > ctx.clockNs) m.clocks[actAt] = ctx.clockNs;
  if (preempt) Atomics.store(mem, m.cpu(cpu, CPU_FIELD.NEED_RESCHED), 1);
  if (cpu !== ctx.cpu) kickCpu(m, cpu);
  ctx.stats.wakeups++;
  return true;
}
var WaitList = class {
  constructor(ctx, headAt, tailAt) {
    this.ctx = ctx;
    this.headAt = headAt;
    this.tailAt = tailAt;
  }
  ctx;
  headAt;
  tailAt;
  get empty() {
    return this.ctx.mem[this.headAt] === 0;
  }
  /** The first waiter's task, or -1. */
  first() {
    return this.ctx.mem[this.headAt] - 1;
  }
  flags(task) {
    return Atomics.load(this.ctx.mem, this.ctx.m.task(task, TASK_FIELD.WAIT_FLAGS));
  }
  /** list_add_tail(&waiter.list, &lock->wait_list) */
  addTail(task, flags) {
    const { m, mem } = this.ctx;
    mem[m.task(task, TASK_FIELD.WAIT_NEXT)] = 0;
    Atomics.store(mem, m.task(task, TASK_FIELD.WAIT_FLAGS), flags);
    const tail = mem[this.tailAt];
    if (tail === 0) mem[this.headAt] = task + 1;
    else mem[m.task(tail - 1, TASK_FIELD.WAIT_NEXT)] = task + 1;
    mem[this.tailAt] = task + 1;
  }
  /** list_del(&waiter.list) */
  remove(task) {
    const { m, mem } = this.ctx;
    let prev = 0;
    let at = mem[this.headAt];
    for (let n = 0; at !== 0; n++) {
      modelAssert(n <= m.size.tasks, "wait list longer than the task table", () => `at task ${at - 1}`);
      const next = mem[m.task(at - 1, TASK_FIELD.WAIT_NEXT)];
      if (at === task + 1) {
        if (prev === 0) mem[this.headAt] = next;
        else mem[m.task(prev - 1, TASK_FIELD.WAIT_NEXT)] = next;
        if (mem[this.tailAt] === task + 1) mem[this.tailAt] = prev;
        mem[m.task(task, TASK_FIELD.WAIT_NEXT)] = 0;
        return;
      }
      prev = at;
      at = next;
    }
    modelAssert(false, "waiter not on the wait list", () => `task ${task}`);
  }
  /** Hand the lock to a waiter: mark it granted, take it off the list and wake it. */
  grant(task) {
    const { m, mem } = this.ctx;
    this.remove(task);
    Atomics.or(mem, m.task(task, TASK_FIELD.WAIT_FLAGS), WAIT_FLAG.GRANTED);
    wakeUpProcess(this.ctx, task);
  }
  granted(task) {
    return (this.flags(task) & WAIT_FLAG.GRANTED) !== 0;
  }
};
var SPURIOUS_WAKEUPS_MAX = 1e6;
function* sleepUntilGranted(ctx, list, flags, unlock) {
  list.addTail(ctx.task, flags);
  ctx.stats.sleepingLockWaits++;
  setCurrentSleeping(ctx);
  yield unlock;
  for (let wakes = 0; !list.granted(ctx.task); wakes++) {
    modelAssert(wakes < SPURIOUS_WAKEUPS_MAX, "woken again and again without the lock", () => `task ${ctx.task}`);
    yield schedule(ctx);
    if (!list.granted(ctx.task)) setCurrentSleeping(ctx);
  }
  setCurrentRunning(ctx);
}

// src/sync/rwsem.ts
var WAIT = LockClass.RWSEM_WAIT_LOCK;
var SEM = LockClass.MMAP_SEM;
function waitList(ctx, sem) {
  return new WaitList(ctx, sem + RWSEM.WAIT_HEAD, sem + RWSEM.WAIT_TAIL);
}
function noteAcquired(ctx, sem, site, contended, startUs) {
  const last = Atomics.exchange(ctx.mem, sem + RWSEM.LAST_CPU, ctx.cpu + 1);
  if (!ctx.timesLocks) return;
  const nowUs = ctx.now();
  ctx.lockStat.acquired(SEM, site, contended, Math.round((nowUs - startUs) * 1e3), last !== 0 && last !== ctx.cpu + 1);
  ctx.lockSinceUs.set(lockHoldKey(sem, ctx.task), nowUs);
}
function noteReleased(ctx, sem) {
  const key = lockHoldKey(sem, ctx.task);
  const since = ctx.lockSinceUs.take(key);
  if (since !== void 0) ctx.lockStat.released(SEM, Math.round((ctx.now() - since) * 1e3));
}
function* downRead(ctx, sem, site) {
  yield mightSleep(ctx, "down_read");
  const mem = ctx.mem;
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, "__down_read");
  if (mem[sem + RWSEM.ACTIVITY] >= 0 && waitList(ctx, sem).empty) {
    mem[sem + RWSEM.ACTIVITY]++;
    yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
    noteAcquired(ctx, sem, site, false, startUs);
    return;
  }
  yield sleepUntilGranted(ctx, waitList(ctx, sem), 0, spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT));
  noteAcquired(ctx, sem, site, true, startUs);
}
function* downWrite(ctx, sem, site) {
  yield mightSleep(ctx, "down_write");
  const mem = ctx.mem;
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, "__down_write");
  if (mem[sem + RWSEM.ACTIVITY] === 0 && waitList(ctx, sem).empty) {
    mem[sem + RWSEM.ACTIVITY] = RWSEM_WRITER;
    mem[sem + RWSEM.OWNER] = ctx.task + 1;
    yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
    noteAcquired(ctx, sem, site, false, startUs);
    return;
  }
  yield sleepUntilGranted(ctx, waitList(ctx, sem), WAIT_FLAG.WRITER, spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT));
  mem[sem + RWSEM.OWNER] = ctx.task + 1;
  noteAcquired(ctx, sem, site, true, startUs);
}
function doWake(ctx, sem) {
  const mem = ctx.mem;
  const list = waitList(ctx, sem);
  if (list.empty) return;
  const head = list.first();
  if ((list.flags(head) & WAIT_FLAG.WRITER) !== 0) {
    mem[sem + RWSEM.ACTIVITY] = RWSEM_WRITER;
    list.grant(head);
    return;
  }
  for (let n = 0; !list.empty && (list.flags(list.first()) & WAIT_FLAG.WRITER) === 0; n++) {
    modelAssert(n < ctx.m.size.tasks, "rwsem wake-up loop longer than the task table", () => `sem at ${sem}`);
    mem[sem + RWSEM.ACTIVITY]++;
    list.grant(list.first());
  }
}
function* upRead(ctx, sem) {
  const mem = ctx.mem;
  noteReleased(ctx, sem);
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, "__up_read");
  const activity = mem[sem + RWSEM.ACTIVITY];
  if (activity <= 0) {
    ctx.oracle.report("LOCK_NOT_OWNER", { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `up_read of an rwsem with activity ${activity}`);
  } else if (--mem[sem + RWSEM.ACTIVITY] === 0) {
    doWake(ctx, sem);
  }
  yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
}
function* upWrite(ctx, sem) {
  const mem = ctx.mem;
  noteReleased(ctx, sem);
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, "__up_write");
  if (mem[sem + RWSEM.OWNER] !== ctx.task + 1 || mem[sem + RWSEM.ACTIVITY] !== RWSEM_WRITER) {
    ctx.oracle.report("LOCK_NOT_OWNER", { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, "up_write by a task that does not hold the rwsem for write");
  } else {
    mem[sem + RWSEM.OWNER] = 0;
    mem[sem + RWSEM.ACTIVITY] = 0;
    doWake(ctx, sem);
  }
  yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
}

// src/mm/pgtable.ts
var PMD_PAGES = PTRS_PER_TABLE;
var PUD_PAGES = PTRS_PER_TABLE * PMD_PAGES;
var PGD_PAGES = PTRS_PER_TABLE * PUD_PAGES;
var TASK_SIZE_PAGES = PTRS_PER_TABLE * PGD_PAGES;
function pgdIndex(vpn) {
  return Math.floor(vpn / PGD_PAGES) % PTRS_PER_TABLE;
}
function pudIndex(vpn) {
  return Math.floor(vpn / PUD_PAGES) % PTRS_PER_TABLE;
}
function pmdIndex(vpn) {
  return Math.floor(vpn / PMD_PAGES) % PTRS_PER_TABLE;
}
function pteIndex(vpn) {
  return vpn % PTRS_PER_TABLE;
}
function addrEnd(vpn, end, size) {
  const boundary = (Math.floor(vpn / size) + 1) * size;
  return boundary < end ? boundary : end;
}
function readEntry(ctx, table, index) {
  return Atomics.load(ctx.mem, ctx.m.ptEntry(table, index));
}
function pgdFrame(ctx, mm) {
  return ctx.mem[ctx.m.mm(mm, MM_FIELD.PGD)];
}
function pteLockptr(ctx, pteTable) {
  return ctx.m.page(pteTable, PAGE_FIELD.PTL);
}
function lookupPteTable(ctx, mm, vpn) {
  let table = pgdFrame(ctx, mm);
  for (const index of [pgdIndex(vpn), pudIndex(vpn), pmdIndex(vpn)]) {
    const e = readEntry(ctx, table, index);
    if (e === 0) return 0;
    table = pteFrame(e);
  }
  return table;
}
function* allocLevel(ctx, mm, table, index, level) {
  const existing = readEntry(ctx, table, index);
  if (existing !== 0) return pteFrame(existing);
  const fresh = yield* allocPage(ctx, "GFP_KERNEL", PageState.PAGETABLE);
  ctx.mem[ctx.m.page(fresh, PAGE_FIELD.MM)] = mm + 1;
  ctx.mem[ctx.m.page(fresh, PAGE_FIELD.INDEX)] = level;
  const ptl = ctx.m.mm(mm, MM_FIELD.PAGE_TABLE_LOCK);
  yield spinLock(ctx, ptl, LockClass.PAGE_TABLE_LOCK, ["", "__pte_alloc", "__pmd_alloc", "__pud_alloc"][level] ?? "__pgd_alloc");
  const now = readEntry(ctx, table, index);
  let result;
  if (now === 0) {
    Atomics.store(ctx.mem, ctx.m.ptEntry(table, index), mkPte(fresh, PTE.PRESENT));
    if (level === 1) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.NR_PTES), 1);
    result = fresh;
  } else {
    result = pteFrame(now);
  }
  yield Step.PTE;
  yield spinUnlock(ctx, ptl, LockClass.PAGE_TABLE_LOCK);
  if (result !== fresh) yield freePage(ctx, fresh);
  return result;
}
function* allocPteTable(ctx, mm, vpn) {
  modelAssert(vpn >= 0 && vpn < USER_VPN_LIMIT, "user vpn out of range", () => `vpn ${vpn}`);
  let table = pgdFrame(ctx, mm);
  table = yield* allocLevel(ctx, mm, table, pgdIndex(vpn), 3);
  table = yield* allocLevel(ctx, mm, table, pudIndex(vpn), 2);
  table = yield* allocLevel(ctx, mm, table, pmdIndex(vpn), 1);
  return table;
}

// src/mm/vma.ts
function vmas(ctx, mm) {
  const out = [];
  for (let slot = 0; slot < MAX_VMAS; slot++) {
    const flags = ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.FLAGS)];
    if (flags === 0) continue;
    out.push({ slot, start: ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.START)], end: ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.END)], flags });
  }
  return out.sort((a, b) => a.start - b.start);
}
function findVma(ctx, mm, vpn) {
  return vmas(ctx, mm).find((v) => v.end > vpn);
}
function insertVma(ctx, mm, start, end, flags) {
  if (!(end > start)) throw new BadInput(`mapping [${start}, ${end}) is empty`);
  for (const v of vmas(ctx, mm)) {
    if (v.start < end && start < v.end) throw new BadInput(`mapping [${start}, ${end}) overlaps [${v.start}, ${v.end})`);
  }
  for (let slot = 0; slot < MAX_VMAS; slot++) {
    if (ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.FLAGS)] !== 0) continue;
    ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.START)] = start;
    ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.END)] = end;
    ctx.mem[ctx.m.vma(mm, slot, VMA_FIELD.PGOFF)] = 0;
    Atomics.store(ctx.mem, ctx.m.vma(mm, slot, VMA_FIELD.FLAGS), flags | VMA_FLAGS.USED);
    return { slot, start, end, flags: flags | VMA_FLAGS.USED };
  }
  throw new BadInput(`mm ${mm} has no room for another mapping (at most ${MAX_VMAS})`);
}
function detachVma(ctx, mm, vma) {
  Atomics.store(ctx.mem, ctx.m.vma(mm, vma.slot, VMA_FIELD.FLAGS), 0);
}

// src/sync/mutex.ts
var WAIT2 = LockClass.MUTEX_WAIT_LOCK;
function mutexInit(mem, lock) {
  mem[lock + MUTEX.COUNT] = 1;
}
function* mutexLock(ctx, lock, cls, site) {
  yield mightSleep(ctx, `mutex_lock(${cls})`);
  const mem = ctx.mem;
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  const contended = Atomics.compareExchange(mem, lock + MUTEX.COUNT, 1, 0) !== 1;
  if (contended) yield mutexLockSlowpath(ctx, lock);
  Atomics.store(mem, lock + MUTEX.OWNER, ctx.task + 1);
  const last = Atomics.exchange(mem, lock + MUTEX.LAST_CPU, ctx.cpu + 1);
  if (!ctx.timesLocks) return;
  const nowUs = ctx.now();
  ctx.lockStat.acquired(cls, site, contended, Math.round((nowUs - startUs) * 1e3), last !== 0 && last !== ctx.cpu + 1);
  ctx.lockSinceUs.set(lockHoldKey(lock, ctx.task), nowUs);
}
function* mutexLockSlowpath(ctx, lock) {
  const mem = ctx.mem;
  const list = new WaitList(ctx, lock + MUTEX.WAIT_HEAD, lock + MUTEX.WAIT_TAIL);
  preemptDisable(ctx, "__mutex_lock_common");
  yield spinLock(ctx, lock + MUTEX.WAIT_LOCK, WAIT2, "__mutex_lock_common");
  list.addTail(ctx.task, 0);
  ctx.stats.sleepingLockWaits++;
  for (let wakes = 0; ; wakes++) {
    modelAssert(wakes < SPURIOUS_WAKEUPS_MAX, "mutex waiter woken again and again without the lock", () => `task ${ctx.task}`);
    if (Atomics.exchange(mem, lock + MUTEX.COUNT, -1) === 1) break;
    setCurrentSleeping(ctx);
    yield spinUnlock(ctx, lock + MUTEX.WAIT_LOCK, WAIT2);
    preemptEnableNoResched(ctx, "__mutex_lock_common");
    yield schedule(ctx);
    preemptDisable(ctx, "__mutex_lock_common");
    yield spinLock(ctx, lock + MUTEX.WAIT_LOCK, WAIT2, "__mutex_lock_common");
  }
  setCurrentRunning(ctx);
  list.remove(ctx.task);
  if (list.empty) Atomics.store(mem, lock + MUTEX.COUNT, 0);
  yield spinUnlock(ctx, lock + MUTEX.WAIT_LOCK, WAIT2);
  yield preemptEnable(ctx, "__mutex_lock_common");
}
function* mutexUnlock(ctx, lock, cls) {
  const mem = ctx.mem;
  if (Atomics.load(mem, lock + MUTEX.OWNER) !== ctx.task + 1) {
    ctx.oracle.report("LOCK_NOT_OWNER", { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `mutex_unlock(${cls}) by task ${ctx.task}, held by ${mem[lock + MUTEX.OWNER] - 1}`);
    return;
  }
  const key = lockHoldKey(lock, ctx.task);
  const since = ctx.lockSinceUs.take(key);
  if (since !== void 0) ctx.lockStat.released(cls, Math.round((ctx.now() - since) * 1e3));
  Atomics.store(mem, lock + MUTEX.OWNER, 0);
  if (Atomics.add(mem, lock + MUTEX.COUNT, 1) + 1 > 0) return;
  yield spinLock(ctx, lock + MUTEX.WAIT_LOCK, WAIT2, "__mutex_unlock_slowpath");
  Atomics.store(mem, lock + MUTEX.COUNT, 1);
  const list = new WaitList(ctx, lock + MUTEX.WAIT_HEAD, lock + MUTEX.WAIT_TAIL);
  if (!list.empty) wakeUpProcess(ctx, list.first());
  yield spinUnlock(ctx, lock + MUTEX.WAIT_LOCK, WAIT2);
}

// src/mm/rmap.ts
var FILE = 0;
function iMmapLockWord(ctx) {
  return ctx.m.file(FILE, FILE_FIELD.I_MMAP_LOCK);
}
function* iMmapLock(ctx, site) {
  if (ctx.config.immapLock === "mutex") yield mutexLock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_MUTEX, site);
  else yield spinLock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_LOCK, site);
}
function* iMmapUnlock(ctx) {
  if (ctx.config.immapLock === "mutex") yield mutexUnlock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_MUTEX);
  else yield spinUnlock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_LOCK);
}
function iMmapNeedbreak(ctx, lock) {
  if (ctx.config.immapLock === "mutex") return Atomics.load(ctx.mem, lock + MUTEX.COUNT) < 0;
  return spinNeedbreak(ctx, lock);
}
function* vmaLinkFile(ctx, vma, mm = ctx.mm) {
  modelAssert((vma.flags & VMA_FLAGS.FILE) !== 0, "linking an anonymous vma into i_mmap", () => `[${vma.start}, ${vma.end})`);
  const { m, mem } = ctx;
  yield iMmapLock(ctx, "vma_link");
  modelAssert(mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] === 0, "vma linked into i_mmap twice", () => `mm ${mm} [${vma.start}, ${vma.end})`);
  mem[m.vma(mm, vma.slot, VMA_FIELD.TRUNCATE_COUNT)] = mem[m.file(FILE, FILE_FIELD.TRUNCATE_COUNT)];
  mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] = 1;
  mem[m.file(FILE, FILE_FIELD.I_MMAP_COUNT)]++;
  yield iMmapUnlock(ctx);
}
function* unlinkFileVma(ctx, vma, mm = ctx.mm) {
  if ((vma.flags & VMA_FLAGS.FILE) === 0) return;
  const { m, mem } = ctx;
  yield iMmapLock(ctx, "unlink_file_vma");
  const at = m.file(FILE, FILE_FIELD.I_MMAP_COUNT);
  modelAssert(mem[at] > 0 && mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] === 1, "unlinking a vma i_mmap does not hold", () => `mm ${mm} [${vma.start}, ${vma.end})`);
  mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] = 0;
  mem[at]--;
  yield iMmapUnlock(ctx);
}
function vmaPgoff(ctx, mm, vma) {
  return ctx.mem[ctx.m.vma(mm, vma.slot, VMA_FIELD.PGOFF)];
}
function iMmapVmas(ctx, firstIndex) {
  const { m, mem } = ctx;
  const out = [];
  for (let mm = 0; mm < m.size.mms; mm++) {
    const linked = [];
    for (let slot = 0; slot < MAX_VMAS; slot++) {
      if (mem[m.vma(mm, slot, VMA_FIELD.I_MMAP)] === 0) continue;
      const start = mem[m.vma(mm, slot, VMA_FIELD.START)];
      const end = mem[m.vma(mm, slot, VMA_FIELD.END)];
      const pgoff = mem[m.vma(mm, slot, VMA_FIELD.PGOFF)];
      if (pgoff + end - start - 1 < firstIndex) continue;
      linked.push({ mm, slot, start, end, flags: VMA_FLAGS.USED | VMA_FLAGS.FILE, pgoff });
    }
    out.push(...linked.sort((a, b) => a.start - b.start));
  }
  return out;
}
function iSizeRead(ctx) {
  if (Atomics.load(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE_SET)) === 0) return Infinity;
  return Atomics.load(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE));
}
function iSizeWrite(ctx, pages) {
  Atomics.store(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE), pages);
  Atomics.store(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE_SET), 1);
}
function fileWord(ctx, field) {
  return ctx.m.file(FILE, field);
}

// src/mm/filemap.ts
var PAGE_LOCK_POLL_US = 20;
var PAGE_LOCK_TRIES_MAX = 1e6;
function mappingCapAccountDirty(ctx) {
  return Atomics.load(ctx.mem, fileWord(ctx, FILE_FIELD.ACCOUNT_DIRTY)) !== 0;
}
function flagsAt(ctx, page) {
  return ctx.m.page(page, PAGE_FIELD.FLAGS);
}
function trylockPage(ctx, page) {
  return (Atomics.or(ctx.mem, flagsAt(ctx, page), PAGE_FLAG.LOCKED) & PAGE_FLAG.LOCKED) === 0;
}
function* lockPage(ctx, page, site) {
  yield mightSleep(ctx, site);
  for (let tries = 0; !trylockPage(ctx, page); tries++) {
    modelAssert(tries < PAGE_LOCK_TRIES_MAX, "lock_page never gets the page", () => `${site}: frame ${page}`);
    if (tries === 0) mark("pageLockSlept");
    yield scheduleTimeout(ctx, PAGE_LOCK_POLL_US);
  }
}
function unlockPage(ctx, page) {
  const was = Atomics.and(ctx.mem, flagsAt(ctx, page), ~PAGE_FLAG.LOCKED);
  modelAssert((was & PAGE_FLAG.LOCKED) !== 0, "unlock_page of a page not locked", () => `frame ${page}`);
}
function* waitOnPageLocked(ctx, page, site) {
  for (let tries = 0; (Atomics.load(ctx.mem, flagsAt(ctx, page)) & PAGE_FLAG.LOCKED) !== 0; tries++) {
    modelAssert(tries < PAGE_LOCK_TRIES_MAX, "wait_on_page_locked never sees the page unlocked", () => `${site}: frame ${page}`);
    yield mightSleep(ctx, site);
    yield scheduleTimeout(ctx, PAGE_LOCK_POLL_US);
  }
}
function* setPageDirty(ctx, page) {
  const was = Atomics.or(ctx.mem, flagsAt(ctx, page), PAGE_FLAG.DIRTY);
  if (!mappingCapAccountDirty(ctx) || (was & PAGE_FLAG.DIRTY) !== 0) return;
  yield spinLockIrqsave(ctx, treeLock(ctx), LockClass.TREE_LOCK, "__set_page_dirty_nobuffers");
  const index = ctx.mem[ctx.m.page(page, PAGE_FIELD.INDEX)];
  if (pageCacheLookup(ctx, index) === page) Atomics.or(ctx.mem, flagsAt(ctx, page), PAGE_FLAG.TAG_DIRTY);
  yield spinUnlockIrqrestore(ctx, treeLock(ctx), LockClass.TREE_LOCK);
}
var FIND_RETRIES_MAX = 1e4;
function treeLock(ctx) {
  return fileWord(ctx, FILE_FIELD.TREE_LOCK);
}
function pageCacheLookup(ctx, index) {
  return Atomics.load(ctx.mem, ctx.m.pageCacheSlot(index));
}
function getPageSpeculative(ctx, frame) {
  const { m, mem } = ctx;
  const at = m.page(frame, PAGE_FIELD.REFCOUNT);
  for (let i = 0; i < 64; i++) {
    const count = Atomics.load(mem, at);
    if (count <= 0 || Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE)) !== PageState.PAGECACHE) return false;
    if (Atomics.compareExchange(mem, at, count, count + 1) !== count) continue;
    if (Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE)) === PageState.PAGECACHE) return true;
    Atomics.sub(mem, at, 1);
    return false;
  }
  return false;
}
function* findGetPage(ctx, index) {
  for (let tries = 0; ; tries++) {
    modelAssert(tries < FIND_RETRIES_MAX, "find_get_page never settles", () => `file page ${index}`);
    const page = pageCacheLookup(ctx, index);
    if (page === 0) return 0;
    if (getPageSpeculative(ctx, page)) {
      if (pageCacheLookup(ctx, index) === page) return page;
      yield freePage(ctx, page);
    }
    yield Step.SPIN;
  }
}
function* addToPageCache(ctx, page, index) {
  const { m, mem } = ctx;
  yield spinLockIrqsave(ctx, treeLock(ctx), LockClass.TREE_LOCK, "add_to_page_cache");
  const slot = m.pageCacheSlot(index);
  const added = Atomics.load(mem, slot) === 0;
  if (added) {
    mem[m.page(page, PAGE_FIELD.INDEX)] = index;
    mem[m.page(page, PAGE_FIELD.VERSION)] = Atomics.load(mem, m.fileDiskSlot(index));
    getPage(ctx, page);
    Atomics.store(mem, slot, page);
    Atomics.add(mem, fileWord(ctx, FILE_FIELD.NR_PAGES), 1);
    ctx.stats.pageCacheAdds++;
  }
  yield spinUnlockIrqrestore(ctx, treeLock(ctx), LockClass.TREE_LOCK);
  return added;
}
function* findOrCreatePage(ctx, index) {
  for (let tries = 0; ; tries++) {
    modelAssert(tries < FIND_RETRIES_MAX, "filemap_fault never finds its page", () => `file page ${index}`);
    const page = yield* findGetPage(ctx, index);
    if (page !== 0) return page;
    const fresh = yield* allocPage(ctx, "GFP_KERNEL", PageState.PAGECACHE);
    yield addToPageCache(ctx, fresh, index);
    yield freePage(ctx, fresh);
  }
}
function* truncateInodePages(ctx, from) {
  const { m, mem } = ctx;
  const n = m.size.filePages;
  const accountDirty = mappingCapAccountDirty(ctx);
  let index = Math.max(0, from);
  while (index < n) {
    const vec = [];
    for (; index < n && vec.length < PAGEVEC_SIZE; index++) {
      const page = pageCacheLookup(ctx, index);
      if (page === 0) continue;
      getPage(ctx, page);
      vec.push(page);
    }
    if (vec.length === 0) break;
    for (const page of vec) {
      if (accountDirty) yield lockPage(ctx, page, "truncate_inode_pages");
      const mapped = Atomics.load(mem, m.page(page, PAGE_FIELD.MAPCOUNT));
      modelAssert(mapped <= 0, "page-cache page still mapped after unmap_mapping_range", () => `frame ${page}: mapcount ${mapped}`);
      Atomics.and(mem, m.page(page, PAGE_FIELD.FLAGS), ~(PAGE_FLAG.DIRTY | PAGE_FLAG.TAG_DIRTY));
      yield spinLockIrqsave(ctx, treeLock(ctx), LockClass.TREE_LOCK, "remove_from_page_cache");
      const slot = m.pageCacheSlot(mem[m.page(page, PAGE_FIELD.INDEX)]);
      modelAssert(Atomics.load(mem, slot) === page, "page-cache slot changed under truncate", () => `frame ${page}`);
      Atomics.store(mem, slot, 0);
      Atomics.sub(mem, fileWord(ctx, FILE_FIELD.NR_PAGES), 1);
      ctx.stats.pageCacheRemovals++;
      yield spinUnlockIrqrestore(ctx, treeLock(ctx), LockClass.TREE_LOCK);
      if (accountDirty) unlockPage(ctx, page);
      yield freePage(ctx, page);
    }
    yield freePages(ctx, vec, vec.length);
    yield condResched(ctx);
  }
  if (accountDirty) for (let i = Math.max(0, from); i < n; i++) Atomics.store(mem, m.fileDiskSlot(i), 0);
}

// src/mm/fault.ts
function walk(ctx, mm, vpn, write) {
  const table = lookupPteTable(ctx, mm, vpn);
  if (table === 0) return 0;
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  for (; ; ) {
    const pte = Atomics.load(ctx.mem, at);
    if (!ptePresent(pte) || write && (pte & PTE.WRITE) === 0) return 0;
    const want = pte | PTE.ACCESSED | (write ? PTE.DIRTY : 0);
    if (want === pte || Atomics.compareExchange(ctx.mem, at, pte, want) === pte) return want;
  }
}
function checkTlbHit(ctx, mm, vpn, pte, gen) {
  const frame = pteFrame(pte);
  if (frame === ZERO_PAGE) return;
  const { m, mem } = ctx;
  const state = Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE));
  const owner = mem[m.page(frame, PAGE_FIELD.MM)] - 1;
  const nowGen = Atomics.load(mem, m.page(frame, PAGE_FIELD.GEN));
  const ours = state === PageState.PAGECACHE || state === PageState.ANON && owner === mm;
  if (!ours || nowGen !== gen) {
    const what = state === PageState.FREE ? "free" : nowGen !== gen ? "reallocated" : `owned by mm ${owner}`;
    ctx.oracle.report("STALE_TLB_ACCESS", { cpu: ctx.cpu, task: ctx.task, mm, address: vpn * 4096, frame }, `vpn ${vpn} read through a TLB entry to frame ${frame}, now ${what}`);
  }
}
function* userAccess(ctx, vpn, write) {
  const mm = ctx.mm;
  modelAssert(mm >= 0, "user access without an mm", () => `task ${ctx.task}`);
  ctx.stats.userAccesses++;
  for (let attempt = 0; attempt < 4; attempt++) {
    const hit = tlbLookup(ctx.m, ctx.cpu, mm, vpn);
    if (hit && (!write || (hit.pte & WRITE_DIRTY) === WRITE_DIRTY)) {
      ctx.stats.tlbHits++;
      checkTlbHit(ctx, mm, vpn, hit.pte, hit.gen);
      if (write) checkWriteThroughTlb(ctx, mm, vpn, pteFrame(hit.pte));
      touchData(ctx, pteFrame(hit.pte), write);
      yield Step.USER;
      return "ok";
    }
    if (hit && write && (hit.pte & PTE.WRITE) !== 0) {
      mark("dirtyBitWalk");
      ctx.stats.tlbDirtyWalks++;
    } else ctx.stats.tlbMisses++;
    const pte = walk(ctx, mm, vpn, write);
    if (pte !== 0) {
      const frame = pteFrame(pte);
      tlbFill(ctx.m, ctx.cpu, mm, vpn, pte, Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.GEN)));
      charge(ctx, ctx.costs.tlbNs);
      ctx.trace?.instant("tlb fill", "tlb", ctx.now(), { vpn, frame });
      touchData(ctx, frame, write);
      yield Step.USER;
      return "ok";
    }
    const caller = fnEnter(ctx, "do_page_fault");
    charge(ctx, ctx.costs.pageFaultNs);
    const r = yield* call(handleMmFault(ctx, mm, vpn, write));
    ctx.fn = caller;
    if (r === "segv") {
      ctx.stats.segfaults++;
      return "segv";
    }
  }
  throw new ModelAssert("fault does not resolve", `cpu ${ctx.cpu}: vpn ${vpn} still faulting after 4 attempts`);
}
var WRITE_DIRTY = PTE.WRITE | PTE.DIRTY;
function checkWriteThroughTlb(ctx, mm, vpn, frame) {
  const { m, mem } = ctx;
  const table = lookupPteTable(ctx, mm, vpn);
  if (table === 0) return;
  const pte = readEntry(ctx, table, pteIndex(vpn));
  if (!ptePresent(pte) || pteFrame(pte) !== frame || (pte & PTE.WRITE) !== 0) return;
  if (Atomics.load(mem, m.mm(mm, MM_FIELD.WRPROTECT_BUSY)) > 0 || Atomics.load(mem, m.page(frame, PAGE_FIELD.MKCLEAN_BUSY)) > 0) return;
  const version = Atomics.load(mem, m.page(frame, PAGE_FIELD.VERSION));
  const index = Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE)) === PageState.PAGECACHE ? mem[m.page(frame, PAGE_FIELD.INDEX)] : -1;
  const disk = index >= 0 ? `, on disk ${Atomics.load(mem, m.fileDiskSlot(index))}` : "";
  ctx.oracle.report(
    "WRITE_AFTER_WRPROTECT",
    { cpu: ctx.cpu, task: ctx.task, mm, address: vpn * 4096, frame },
    `vpn ${vpn} written through a writable TLB entry to frame ${frame} while its pte is read-only and no mprotect or page_mkclean is under way (data version ${version} -> ${version + 1}${disk})`
  );
}
function touchData(ctx, frame, write) {
  if (!write || frame === ZERO_PAGE) return;
  const at = ctx.m.page(frame, PAGE_FIELD.DATA);
  Atomics.store(ctx.mem, at, ctx.task + 1 << 20 | ctx.mem[at] + 1 & 1048575);
  Atomics.add(ctx.mem, ctx.m.page(frame, PAGE_FIELD.VERSION), 1);
}
function* handleMmFault(ctx, mm, vpn, write) {
  ctx.stats.pageFaults++;
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  yield downRead(ctx, sem, "do_page_fault");
  const vma = findVma(ctx, mm, vpn);
  if (!vma || vma.start > vpn || write && (vma.flags & VMA_FLAGS.WRITE) === 0) {
    yield upRead(ctx, sem);
    return "segv";
  }
  const file = (vma.flags & VMA_FLAGS.FILE) !== 0;
  const fileIndex = file ? vpn - vma.start + vmaPgoff(ctx, mm, vma) : -1;
  if (file && fileIndex >= iSizeRead(ctx)) {
    yield upRead(ctx, sem);
    return "segv";
  }
  if ((vma.flags & VMA_FLAGS.SHARED) !== 0) {
    const r = yield* doSharedFault(ctx, mm, vma, vpn, fileIndex, write);
    yield upRead(ctx, sem);
    return r;
  }
  const table = yield* allocPteTable(ctx, mm, vpn);
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  const ptl = pteLockptr(ctx, table);
  const old = readEntry(ctx, table, pteIndex(vpn));
  if (old === 0 || write && pteFrame(old) === ZERO_PAGE) {
    const page = write ? yield* allocPage(ctx, "GFP_KERNEL", PageState.ANON) : ZERO_PAGE;
    yield spinLock(ctx, ptl, LockClass.PTE_LOCK, old === 0 ? "do_anonymous_page" : "do_wp_page");
    const now = Atomics.load(ctx.mem, at);
    let installed = false;
    const beyondEof = file && fileIndex >= iSizeRead(ctx);
    if (now === old && !beyondEof) {
      if (old !== 0) {
        Atomics.store(ctx.mem, at, 0);
        yield Step.PTE;
        yield flushTlbPage(ctx, mm, vpn);
      }
      if (page !== ZERO_PAGE) {
        ctx.mem[ctx.m.page(page, PAGE_FIELD.MM)] = mm + 1;
        ctx.mem[ctx.m.page(page, PAGE_FIELD.INDEX)] = vpn;
        ctx.mem[ctx.m.page(page, PAGE_FIELD.MAPCOUNT)] = 1;
        Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_ANON), 1);
      }
      Atomics.store(ctx.mem, at, mkPte(page, PTE.PRESENT | PTE.ACCESSED | (write ? PTE.WRITE | PTE.DIRTY : 0)));
      installed = true;
      yield Step.PTE;
    }
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    if (!installed && page !== ZERO_PAGE) yield freePage(ctx, page);
    if (beyondEof) {
      yield upRead(ctx, sem);
      return "segv";
    }
  }
  yield upRead(ctx, sem);
  return "ok";
}
function* doSharedFault(ctx, mm, vma, vpn, index, write) {
  const { m, mem } = ctx;
  const table = yield* allocPteTable(ctx, mm, vpn);
  const at = m.ptEntry(table, pteIndex(vpn));
  const ptl = pteLockptr(ctx, table);
  const diskFile = mappingCapAccountDirty(ctx);
  for (let tries = 0; ; tries++) {
    modelAssert(tries < FIND_RETRIES_MAX, "a shared fault never installs its page", () => `mm ${mm} vpn ${vpn} file page ${index}`);
    const orig = Atomics.load(mem, at);
    if (orig !== 0) {
      if (write && ptePresent(orig) && (orig & PTE.WRITE) === 0 && (vma.flags & VMA_FLAGS.WRITE) !== 0) return yield* doWpPageShared(ctx, mm, vpn, table, orig);
      return "ok";
    }
    const page = yield* findOrCreatePage(ctx, index);
    if (diskFile) yield lockPage(ctx, page, "filemap_fault");
    yield spinLock(ctx, ptl, LockClass.PTE_LOCK, "__do_fault");
    const now = Atomics.load(mem, at);
    const beyondEof = index >= iSizeRead(ctx);
    const cached = pageCacheLookup(ctx, index) === page;
    let installed = false;
    if (now === 0 && !beyondEof && cached) {
      Atomics.add(mem, m.page(page, PAGE_FIELD.MAPCOUNT), 1);
      Atomics.add(mem, m.mm(mm, MM_FIELD.RSS_FILE), 1);
      const writable = (vma.flags & VMA_FLAGS.WRITE) !== 0 && (write || !diskFile);
      Atomics.store(mem, at, mkPte(page, PTE.PRESENT | PTE.ACCESSED | (writable ? PTE.WRITE : 0) | (write ? PTE.DIRTY : 0)));
      installed = true;
      yield Step.PTE;
    }
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    if (installed) {
      if (write) yield setPageDirty(ctx, page);
      if (diskFile) unlockPage(ctx, page);
      return "ok";
    }
    if (diskFile) unlockPage(ctx, page);
    yield freePage(ctx, page);
    if (beyondEof) return "segv";
    if (now !== 0) continue;
  }
}
function* doWpPageShared(ctx, mm, vpn, table, orig) {
  const { m, mem } = ctx;
  const at = m.ptEntry(table, pteIndex(vpn));
  const ptl = pteLockptr(ctx, table);
  const page = pteFrame(orig);
  yield spinLock(ctx, ptl, LockClass.PTE_LOCK, "do_wp_page");
  if (Atomics.load(mem, at) !== orig) {
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    return "ok";
  }
  mark("wpFaultReuse");
  getPage(ctx, page);
  Atomics.store(mem, at, orig | PTE.ACCESSED | PTE.DIRTY | PTE.WRITE);
  yield Step.PTE;
  yield flushTlbPage(ctx, mm, vpn);
  yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
  ctx.stats.wpFaults++;
  yield waitOnPageLocked(ctx, page, "do_wp_page");
  if (!ctx.traits.wpFaultNoDirty) yield setPageDirty(ctx, page);
  yield freePage(ctx, page);
  return "ok";
}

// src/mm/memory.ts
function zapBlockSize(ctx) {
  return (ctx.config.preempt === "full" ? 8 : 1024) * PAGE_SIZE;
}
var RSS_ANON = 0;
var RSS_FILE = 1;
var RSS_SWAP = 2;
function addMmRssVec(ctx, mm, rss) {
  if (rss[RSS_ANON]) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_ANON), rss[RSS_ANON]);
  if (rss[RSS_FILE]) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_FILE), rss[RSS_FILE]);
  if (rss[RSS_SWAP]) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_SWAP), rss[RSS_SWAP]);
}
function* pteOffsetMapLock(ctx, table) {
  yield spinLock(ctx, pteLockptr(ctx, table), LockClass.PTE_LOCK, "zap_pte_range");
  ctx.ptlHeld++;
  ctx.ptlFreedThisHold = 0;
  ctx.stats.pteLockAcquisitions++;
}
function* pteUnmapUnlock(ctx, table, tableBase, pteVpn) {
  if (pteVpn - 1 < tableBase) ctx.stats.pteUnmapWrongPage++;
  ctx.ptlHeld--;
  yield spinUnlock(ctx, pteLockptr(ctx, table), LockClass.PTE_LOCK);
}
function ptepGetAndClearFull(ctx, at, fullmm) {
  if (!fullmm) return Atomics.exchange(ctx.mem, at, 0);
  const v = Atomics.load(ctx.mem, at);
  Atomics.store(ctx.mem, at, 0);
  return v;
}
function vmNormalPage(pte) {
  const frame = pteFrame(pte);
  return frame === ZERO_PAGE ? 0 : frame;
}
function pageRemoveRmap(ctx, page, vpn) {
  const left = Atomics.sub(ctx.mem, ctx.m.page(page, PAGE_FIELD.MAPCOUNT), 1) - 1;
  if (left < 0) ctx.oracle.report("BAD_PAGE_MAP", { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm, address: vpn * 4096, frame: page }, `frame ${page} at vpn ${vpn}: mapcount ${left}`);
}
function* zapPresentPte(ctx, tlb, table, vpn, rss) {
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  let ptent;
  if (ctx.traits.unlockBeforeClear) {
    ptent = Atomics.load(ctx.mem, at);
    const ptl = pteLockptr(ctx, table);
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    yield spinLock(ctx, ptl, LockClass.PTE_LOCK, "zap_pte_range");
    ptepGetAndClearFull(ctx, at, tlb.fullmm);
  } else {
    ptent = ptepGetAndClearFull(ctx, at, tlb.fullmm);
  }
  modelAssert(ptePresent(ptent), "pte changed under the pte lock", () => `vpn ${vpn}`);
  ctx.trace?.instant("pte clear", "pte", ctx.now(), { vpn, frame: pteFrame(ptent) });
  tlb.setNeedFlush();
  yield Step.PTE;
  const page = vmNormalPage(ptent);
  if (page === 0) return 0;
  if (Atomics.load(ctx.mem, ctx.m.page(page, PAGE_FIELD.STATE)) === PageState.PAGECACHE) {
    if ((ptent & PTE.DIRTY) !== 0) yield setPageDirty(ctx, page);
    rss[RSS_FILE]--;
  } else {
    rss[RSS_ANON]--;
  }
  pageRemoveRmap(ctx, page, vpn);
  return page;
}
function* zapPteRangeLegacy(ctx, tlb, table, addr, end, zapWork) {
  const caller = fnEnter(ctx, "zap_pte_range");
  const mm = tlb.mm;
  const rss = [0, 0, 0];
  const tableBase = addr - pteIndex(addr);
  yield pteOffsetMapLock(ctx, table);
  do {
    const ptent = readEntry(ctx, table, pteIndex(addr));
    if (ptent === 0) {
      zapWork.n--;
      continue;
    }
    zapWork.n -= PAGE_SIZE;
    modelAssert((ptent & PTE.PRESENT) !== 0, "non-present, non-none pte (no swap in this model)", () => `vpn ${addr}`);
    const page = yield* zapPresentPte(ctx, tlb, table, addr, rss);
    if (page === 0) continue;
    yield tlb.removePage(ctx, page);
  } while (addr += 1, addr !== end && zapWork.n > 0);
  addMmRssVec(ctx, mm, rss);
  yield pteUnmapUnlock(ctx, table, tableBase, addr);
  ctx.fn = caller;
  return addr;
}
function* zapPteRangeRework(ctx, tlb, table, addr, end, zapWork) {
  const caller = fnEnter(ctx, "zap_pte_range");
  const mm = tlb.mm;
  let forceFlush = false;
  let rss = [0, 0, 0];
  const tableBase = addr - pteIndex(addr);
  for (; ; ) {
    if (!ctx.traits.rssInitBeforeAgain) rss = [0, 0, 0];
    yield pteOffsetMapLock(ctx, table);
    do {
      const ptent = readEntry(ctx, table, pteIndex(addr));
      if (ptent === 0) {
        zapWork.n--;
        continue;
      }
      zapWork.n -= PAGE_SIZE;
      modelAssert((ptent & PTE.PRESENT) !== 0, "non-present, non-none pte (no swap in this model)", () => `vpn ${addr}`);
      const page = yield* zapPresentPte(ctx, tlb, table, addr, rss);
      if (page === 0) continue;
      forceFlush = (yield* tlb.removePage(ctx, page)) === 0 && !ctx.traits.lostForceFlush;
      if (forceFlush) break;
    } while (addr += 1, addr !== end && zapWork.n > 0);
    addMmRssVec(ctx, mm, rss);
    yield pteUnmapUnlock(ctx, table, tableBase, addr);
    if (forceFlush) {
      forceFlush = false;
      mark("forcedFlush");
      ctx.stats.forcedFlushes++;
      yield tlb.flushMmu(ctx);
      if (addr !== end) continue;
    }
    ctx.fn = caller;
    return addr;
  }
}
function* zapPmdRange(ctx, tlb, pmdTable, addr, end, zapWork) {
  const zapPteRange = ctx.traits.design === "legacy" ? zapPteRangeLegacy : zapPteRangeRework;
  let next;
  do {
    next = addrEnd(addr, end, PMD_PAGES);
    const e = readEntry(ctx, pmdTable, pmdIndex(addr));
    if (e === 0) {
      zapWork.n--;
      continue;
    }
    next = yield* call(zapPteRange(ctx, tlb, pteFrame(e), addr, next, zapWork));
  } while (addr = next, addr !== end && zapWork.n > 0);
  return addr;
}
function* zapPudRange(ctx, tlb, pudTable, addr, end, zapWork) {
  let next;
  do {
    next = addrEnd(addr, end, PUD_PAGES);
    const e = readEntry(ctx, pudTable, pudIndex(addr));
    if (e === 0) {
      zapWork.n--;
      continue;
    }
    next = yield* call(zapPmdRange(ctx, tlb, pteFrame(e), addr, next, zapWork));
  } while (addr = next, addr !== end && zapWork.n > 0);
  return addr;
}
function* unmapPageRange(ctx, tlb, vma, addr, end, zapWork) {
  modelAssert(addr < end, "BUG_ON(addr >= end)", () => `${addr} >= ${end} in vma [${vma.start}, ${vma.end})`);
  const pgd = pgdFrame(ctx, tlb.mm);
  let next;
  do {
    next = addrEnd(addr, end, PGD_PAGES);
    const e = readEntry(ctx, pgd, pgdIndex(addr));
    if (e === 0) {
      zapWork.n--;
      continue;
    }
    next = yield* call(zapPudRange(ctx, tlb, pteFrame(e), addr, next, zapWork));
  } while (addr = next, addr !== end && zapWork.n > 0);
  return addr;
}
function* unmapVmas(ctx, tlbp, vmaList, startAddr, endAddr, details) {
  const caller = fnEnter(ctx, "unmap_vmas");
  const legacy2 = ctx.traits.design === "legacy";
  const zapWork = { n: zapBlockSize(ctx) };
  const iMmapLock2 = details?.iMmapLock ?? null;
  let start = startAddr;
  const first = tlbp.tlb;
  modelAssert(first !== null, "unmap_vmas without a gather", () => `task ${ctx.task}`);
  const mm = first.mm;
  const fullmm = first.fullmm;
  for (const vma of vmaList) {
    if (vma.start >= endAddr) continue;
    if (vma.end <= startAddr) continue;
    start = Math.max(vma.start, startAddr);
    const end = Math.min(vma.end, endAddr);
    while (start !== end) {
      start = yield* call(unmapPageRange(ctx, tlbp.tlb, vma, start, end, zapWork));
      if (zapWork.n > 0) {
        modelAssert(start === end, "BUG_ON(start != end)", () => `${start} != ${end}`);
        break;
      }
      if (legacy2) yield tlbp.tlb.finishMmu(ctx);
      if (needResched(ctx) || iMmapLock2 !== null && iMmapNeedbreak(ctx, iMmapLock2)) {
        if (iMmapLock2 !== null) {
          if (legacy2) tlbp.tlb = null;
          ctx.fn = caller;
          return start;
        }
        yield condResched(ctx);
      }
      if (legacy2) tlbp.tlb = yield* tlbGatherMmu(ctx, mm, fullmm);
      zapWork.n = zapBlockSize(ctx);
    }
  }
  ctx.fn = caller;
  return start;
}

// src/mm/mmap.ts
var FIRST_USER_ADDRESS = 0;
function* pgtableFreeTlb(ctx, tlb, table) {
  tlb.setNeedFlush();
  yield tlbRemovePage(ctx, tlb, table);
}
function* clearAndFree(ctx, tlb, table, index, level) {
  const at = ctx.m.ptEntry(table, index);
  const lower = pteFrame(Atomics.exchange(ctx.mem, at, 0));
  modelAssert(lower !== 0, "freeing a table under a none entry", () => `table ${table} index ${index}`);
  yield Step.PTE;
  if (level === 1) Atomics.sub(ctx.mem, ctx.m.mm(tlb.mm, MM_FIELD.NR_PTES), 1);
  yield pgtableFreeTlb(ctx, tlb, lower);
}
function* freePgdRange(ctx, tlb, addr, end, floor, ceiling) {
  const top = ceiling === 0 ? TASK_SIZE_PAGES : ceiling;
  addr -= addr % PMD_PAGES;
  if (addr < floor) {
    addr += PMD_PAGES;
    if (addr >= TASK_SIZE_PAGES) return;
  }
  let ceil = top;
  ceil -= ceil % PMD_PAGES;
  if (ceil === 0) return;
  if (end > ceil) end -= PMD_PAGES;
  if (addr > end - 1) return;
  const pgd = pgdFrame(ctx, tlb.mm);
  let next;
  do {
    next = addrEnd(addr, end, PGD_PAGES);
    if (readEntry(ctx, pgd, pgdIndex(addr)) === 0) continue;
    yield freePudRange(ctx, tlb, pgd, addr, next, floor, top);
  } while ((addr = next) !== end);
}
function* freePudRange(ctx, tlb, pgd, addr, end, floor, ceiling) {
  const pud = pteFrame(readEntry(ctx, pgd, pgdIndex(addr)));
  let start = addr;
  let next;
  do {
    next = addrEnd(addr, end, PUD_PAGES);
    if (readEntry(ctx, pud, pudIndex(addr)) === 0) continue;
    yield freePmdRange(ctx, tlb, pud, addr, next, floor, ceiling);
  } while ((addr = next) !== end);
  start -= start % PGD_PAGES;
  if (start < floor) return;
  const ceil = ceiling - ceiling % PGD_PAGES;
  if (ceil === 0) return;
  if (end > ceil) return;
  yield clearAndFree(ctx, tlb, pgd, pgdIndex(start), 3);
}
function* freePmdRange(ctx, tlb, pud, addr, end, floor, ceiling) {
  const pmd = pteFrame(readEntry(ctx, pud, pudIndex(addr)));
  let start = addr;
  let next;
  do {
    next = addrEnd(addr, end, PMD_PAGES);
    if (readEntry(ctx, pmd, pmdIndex(addr)) === 0) continue;
    yield clearAndFree(ctx, tlb, pmd, pmdIndex(addr), 1);
  } while ((addr = next) !== end);
  start -= start % PUD_PAGES;
  if (start < floor) return;
  const ceil = ceiling - ceiling % PUD_PAGES;
  if (ceil === 0) return;
  if (end > ceil) return;
  yield clearAndFree(ctx, tlb, pud, pudIndex(start), 2);
}
function* freePgtables(ctx, tlb, list, floor, ceiling) {
  const caller = fnEnter(ctx, "free_pgtables");
  for (let i = 0; i < list.length; ) {
    const addr = list[i].start;
    let last = list[i];
    yield unlinkFileVma(ctx, last, tlb.mm);
    while (i + 1 < list.length && list[i + 1].start <= last.end + PMD_PAGES) {
      last = list[++i];
      yield unlinkFileVma(ctx, last, tlb.mm);
    }
    const next = list[i + 1];
    yield freePgdRange(ctx, tlb, addr, last.end, floor, next ? next.start : ceiling);
    i++;
  }
  ctx.fn = caller;
}
function* unmapRegion(ctx, mm, list, prev, next, start, end) {
  const caller = fnEnter(ctx, "unmap_region");
  const tlbp = { tlb: yield* tlbGatherMmu(ctx, mm, false) };
  yield unmapVmas(ctx, tlbp, list, start, end, null);
  const tlb = tlbp.tlb;
  yield freePgtables(ctx, tlb, list, prev ? prev.end : FIRST_USER_ADDRESS, next ? next.start : 0);
  yield tlb.finishMmu(ctx);
  ctx.fn = caller;
}
function* doMunmap(ctx, mm, start, end) {
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, "do_munmap");
  yield downWrite(ctx, sem, "sys_munmap");
  const all = vmas(ctx, mm);
  const list = all.filter((v) => v.start < end && start < v.end);
  for (const v of list) {
    if (v.start < start || v.end > end) throw new BadInput(`munmap [${start}, ${end}) splits mapping [${v.start}, ${v.end}); only whole mappings are unmapped`);
  }
  if (list.length > 0) {
    const prev = all.filter((v) => v.end <= start).pop();
    const next = all.find((v) => v.start >= end);
    for (const v of list) detachVma(ctx, mm, v);
    yield unmapRegion(ctx, mm, list, prev, next, start, end);
  }
  yield upWrite(ctx, sem);
  ctx.fn = caller;
}
function* zapPageRange(ctx, vma, start, end, details = null, mm = ctx.mm) {
  const caller = fnEnter(ctx, "zap_page_range");
  const tlbp = { tlb: yield* tlbGatherMmu(ctx, mm, false) };
  const reached = yield* call(unmapVmas(ctx, tlbp, [vma], start, end, details));
  if (tlbp.tlb) yield tlbp.tlb.finishMmu(ctx);
  ctx.fn = caller;
  return reached;
}
function* madviseDontneed(ctx, mm, start, end) {
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, "madvise_dontneed");
  yield downRead(ctx, sem, "madvise");
  for (const vma of vmas(ctx, mm)) {
    const s = Math.max(vma.start, start);
    const e = Math.min(vma.end, end);
    if (s < e) yield zapPageRange(ctx, vma, s, e);
  }
  yield upRead(ctx, sem);
  ctx.fn = caller;
}
function* exitMmap(ctx, mm) {
  const caller = fnEnter(ctx, "exit_mmap");
  const list = vmas(ctx, mm);
  if (list.length > 0) {
    const tlbp = { tlb: yield* tlbGatherMmu(ctx, mm, true) };
    yield unmapVmas(ctx, tlbp, list, 0, TASK_SIZE_PAGES, null);
    const tlb = tlbp.tlb;
    yield freePgtables(ctx, tlb, list, FIRST_USER_ADDRESS, 0);
    yield tlb.finishMmu(ctx);
    for (const v of list) detachVma(ctx, mm, v);
  }
  const pgd = pgdFrame(ctx, mm);
  for (let i = 0; i < PTRS_PER_TABLE; i++) modelAssert(readEntry(ctx, pgd, i) === 0, "pgd not empty after exit_mmap", () => `mm ${mm} index ${i}`);
  Atomics.store(ctx.mem, ctx.m.mm(mm, MM_FIELD.EXITED), 1);
  ctx.fn = caller;
}

// src/mm/syscall.ts
function* returnToUser(ctx, mm, start, end, syscall) {
  for (const e of tlbEntriesInRange(ctx.m, mm, start, end)) {
    const table = lookupPteTable(ctx, mm, e.vpn);
    const pte = table === 0 ? 0 : readEntry(ctx, table, pteIndex(e.vpn));
    const frame = pteFrame(e.pte);
    const same = ptePresent(pte) && pteFrame(pte) === frame && Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.GEN)) === e.gen;
    const mkcleanFlushing = pte === 0 && Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.MKCLEAN_BUSY)) > 0;
    if (!same && !mkcleanFlushing) {
      ctx.oracle.report(
        "TLB_AFTER_RETURN",
        { cpu: ctx.cpu, task: ctx.task, mm, address: e.vpn * 4096, frame },
        `${syscall} returned while cpu ${e.cpu}'s TLB still maps vpn ${e.vpn} to frame ${frame}`
      );
      break;
    }
  }
  yield Step.PREEMPT;
}
function* exitMm(ctx) {
  const mm = ctx.mm;
  if (mm < 0) return;
  ctx.mm = -1;
  enterLazyTlb(ctx);
  if (Atomics.sub(ctx.mem, ctx.m.mm(mm, MM_FIELD.USERS), 1) === 1) yield exitMmap(ctx, mm);
}
function walkMm(mem, m, mm, reach, ptes) {
  const mapped = { anon: 0, file: 0 };
  const pgd = mem[m.mm(mm, MM_FIELD.PGD)];
  if (pgd === 0) return mapped;
  reach[pgd] = 1;
  const visit = (table, level) => {
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const e = mem[m.ptEntry(table, i)];
      if (e === 0) continue;
      const frame = pteFrame(e);
      if (level === 0) {
        if (frame !== ZERO_PAGE) {
          if (mem[m.page(frame, PAGE_FIELD.STATE)] === PageState.PAGECACHE) mapped.file++;
          else mapped.anon++;
          reach[frame] = 1;
          ptes[frame]++;
        }
      } else {
        reach[frame] = 1;
        visit(frame, level - 1);
      }
    }
  };
  visit(pgd, 3);
  return mapped;
}
function checkPageWritten(mem, m, oracle, page, index, cpu, when) {
  if (mem[m.file(0, FILE_FIELD.ACCOUNT_DIRTY)] === 0 || (Atomics.load(mem, m.page(page, PAGE_FIELD.FLAGS)) & PAGE_FLAG.DIRTY) !== 0) return;
  const version = Atomics.load(mem, m.page(page, PAGE_FIELD.VERSION));
  const disk = Atomics.load(mem, m.fileDiskSlot(index));
  if (version <= disk) return;
  const writer = (Atomics.load(mem, m.page(page, PAGE_FIELD.DATA)) >>> 20) - 1;
  oracle.report("LOST_WRITE", { cpu, task: writer, mm: -1, frame: page }, `${when}: file page ${index} (frame ${page}) is clean with data version ${version}, the disk holds ${disk}; last written by task ${writer}`);
}
function checkPageCache(mem, m, oracle, reach, ptes) {
  let cached = 0;
  for (let index = 0; index < m.size.filePages; index++) {
    const frame = mem[m.pageCacheSlot(index)];
    if (frame === 0) continue;
    cached++;
    reach[frame] = 1;
    const state = mem[m.page(frame, PAGE_FIELD.STATE)];
    const count = mem[m.page(frame, PAGE_FIELD.REFCOUNT)];
    const mapcount = mem[m.page(frame, PAGE_FIELD.MAPCOUNT)];
    if (state !== PageState.PAGECACHE || mem[m.page(frame, PAGE_FIELD.INDEX)] !== index) {
      oracle.report("PAGE_LEAK", { cpu: -1, task: -1, mm: -1, frame }, `page-cache slot ${index} holds frame ${frame}, which is ${state === PageState.FREE ? "free" : `not the page of file page ${index}`}`);
    } else if (mapcount !== ptes[frame] || count !== 1 + ptes[frame]) {
      oracle.report("BAD_PAGE_MAP", { cpu: -1, task: -1, mm: -1, frame }, `page-cache page ${frame} (file page ${index}): count ${count}, mapcount ${mapcount}, mapped by ${ptes[frame]} ptes`);
    } else {
      checkPageWritten(mem, m, oracle, frame, index, -1, "at the end of the run");
    }
  }
  const nr = mem[m.file(0, FILE_FIELD.NR_PAGES)];
  if (nr !== cached) oracle.report("PAGE_LEAK", { cpu: -1, task: -1, mm: -1 }, `the file's nrpages is ${nr}, its page cache holds ${cached}`);
}
function checkQuiescent(mem, m, oracle, queuedInGathers) {
  const reach = new Uint8Array(m.size.pages);
  const ptes = new Int32Array(m.size.pages);
  for (let mm = 0; mm < m.size.mms; mm++) {
    const mapped = walkMm(mem, m, mm, reach, ptes);
    const rss = mem[m.mm(mm, MM_FIELD.RSS_ANON)];
    if (rss !== mapped.anon) {
      oracle.report("RSS_MISMATCH", { cpu: -1, task: -1, mm }, `mm ${mm}: MM_ANONPAGES is ${rss}, page tables map ${mapped.anon}`);
    }
    const rssFile = mem[m.mm(mm, MM_FIELD.RSS_FILE)];
    if (rssFile !== mapped.file) {
      oracle.report("RSS_MISMATCH", { cpu: -1, task: -1, mm }, `mm ${mm}: MM_FILEPAGES is ${rssFile}, page tables map ${mapped.file} page-cache pages`);
    }
  }
  checkPageCache(mem, m, oracle, reach, ptes);
  let free = 0;
  let inUse = 0;
  let leaked = 0;
  let firstLeak = -1;
  for (let f = 0; f < m.size.pages; f++) {
    const state = mem[m.page(f, PAGE_FIELD.STATE)];
    if (state === PageState.FREE) free++;
    else if (state === PageState.RESERVED) continue;
    else if (reach[f]) inUse++;
    else {
      leaked++;
      if (firstLeak < 0) firstLeak = f;
    }
  }
  const total = m.size.pages - 2;
  if (free !== mem[HDR.FREE_TOP]) {
    oracle.report("PAGE_LEAK", { cpu: -1, task: -1, mm: -1 }, `${free} frames are marked free but the free list holds ${mem[HDR.FREE_TOP]}`);
  }
  if (free + inUse + queuedInGathers !== total) {
    oracle.report(
      "PAGE_LEAK",
      { cpu: -1, task: -1, mm: -1, frame: firstLeak },
      `free ${free} + in use ${inUse} + queued ${queuedInGathers} != total ${total}: ${leaked} frames unaccounted for, first ${firstLeak}`
    );
  }
}

// src/machine/rng.ts
var Rng = class {
  s0;
  s1;
  s2;
  s3;
  constructor(seed) {
    let x = seed >>> 0;
    const next = () => {
      x = x + 2654435769 >>> 0;
      let z2 = x;
      z2 = Math.imul(z2 ^ z2 >>> 16, 2246822507) >>> 0;
      z2 = Math.imul(z2 ^ z2 >>> 13, 3266489909) >>> 0;
      return (z2 ^ z2 >>> 16) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }
  /** A uniform 32-bit unsigned integer. */
  u32() {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
  /** A uniform integer in [0, n). */
  below(n) {
    return Math.floor(this.u32() / 4294967296 * n);
  }
  /** True with probability p. */
  chance(p) {
    return this.u32() / 4294967296 < p;
  }
};
function rotl(x, k) {
  return (x << k | x >>> 32 - k) >>> 0;
}

// src/workloads/workload.ts
function userTaskCount(config) {
  return config.cpus * config.tasksPerCpu;
}
function userTasks(config) {
  const n = userTaskCount(config);
  const mmOf = (i) => Math.floor(i * config.mms / n);
  const specs = [];
  for (let i = 0; i < n; i++) {
    const mm = mmOf(i);
    const first = specs.findIndex((s) => s.mm === mm);
    specs.push({ cpu: i % config.cpus, mm, kind: TaskKind.USER, rank: first < 0 ? 0 : i - first, peers: 0 });
  }
  for (const s of specs) s.peers = specs.filter((t) => t.mm === s.mm).length;
  return specs;
}
function maxPeers(config) {
  return Math.ceil(userTaskCount(config) / config.mms);
}
var REGION_BASE = PAGES_PER_PUD;
function wordAt(ctx, i) {
  modelAssert(i < WORKLOAD_WORDS_PER_MM && ctx.mm >= 0, "workload word out of range", () => `word ${i} of mm ${ctx.mm}`);
  return HDR.WORKLOAD + ctx.mm * WORKLOAD_WORDS_PER_MM + i;
}
var USER_WAIT_LOCKUPS = 100;
function stampWordAt(ctx, at) {
  const k = at - HDR.WORKLOAD;
  modelAssert(k >= 0 && k < WORKLOAD_WORDS, "not a workload word", () => `word ${at}`);
  if (ctx.m.workloadNs[k] < ctx.clockNs) ctx.m.workloadNs[k] = ctx.clockNs;
  holdUserWaiters(ctx);
}
function holdUserWaiters(ctx) {
  const { m } = ctx;
  for (let c = 0; c < m.size.cpus; c++) {
    const line = c * CLOCK_STRIDE;
    const waitNs = m.clocks[line + CLOCK_SLOT.USER_WAIT];
    if (c === ctx.cpu || !Number.isFinite(waitNs)) continue;
    if (!(m.clocks[line + CLOCK_SLOT.HOLD] <= waitNs)) m.clocks[line + CLOCK_SLOT.HOLD] = waitNs;
    kickCpu(m, c);
  }
}
function sawWordAt(ctx, at) {
  clockAtLeast(ctx, ctx.m.workloadNs[at - HDR.WORKLOAD]);
}
function* waitWordAt(ctx, at, value, what) {
  if (Atomics.load(ctx.mem, at) >= value) return;
  const watch = new SpinWatch(ctx, what, USER_WAIT_LOCKUPS);
  while (Atomics.load(ctx.mem, at) < value) {
    watch.tick();
    yield Step.YIELD;
  }
  sawWordAt(ctx, at);
}
function waitWord(ctx, i, value, what) {
  return waitWordAt(ctx, wordAt(ctx, i), value, what);
}
function bumpWordAt(ctx, at) {
  stampWordAt(ctx, at);
  Atomics.add(ctx.mem, at, 1);
  Atomics.add(ctx.mem, HDR.WORD_EPOCH, 1);
  changedForAll(ctx.m);
}
function bumpWord(ctx, i) {
  bumpWordAt(ctx, wordAt(ctx, i));
}
function storeWordAt(ctx, at, value) {
  stampWordAt(ctx, at);
  Atomics.store(ctx.mem, at, value);
  Atomics.add(ctx.mem, HDR.WORD_EPOCH, 1);
  changedForAll(ctx.m);
}
function readWord(ctx, i) {
  return Atomics.load(ctx.mem, wordAt(ctx, i));
}
function* mmapRanges(ctx, ranges, file = false, pgoff = 0) {
  const sem = ctx.m.mm(ctx.mm, MM_FIELD.MMAP_SEM);
  const kind = file === "shared" ? VMA_FLAGS.FILE | VMA_FLAGS.SHARED : file ? VMA_FLAGS.FILE : VMA_FLAGS.ANON;
  modelAssert(pgoff === 0 || file !== false, "an anonymous mapping with a file offset", () => `pgoff ${pgoff}`);
  yield downWrite(ctx, sem, "sys_mmap");
  for (const [start, end] of ranges) {
    const vma = insertVma(ctx, ctx.mm, start, end, VMA_FLAGS.READ | VMA_FLAGS.WRITE | kind);
    if (file === false) continue;
    ctx.mem[ctx.m.vma(ctx.mm, vma.slot, VMA_FIELD.PGOFF)] = pgoff;
    yield vmaLinkFile(ctx, vma);
  }
  yield upWrite(ctx, sem);
}
function* touchRange(ctx, start, end) {
  for (let vpn = start; vpn < end; vpn++) yield userAccess(ctx, vpn, true);
}
function taskCounters(rec) {
  return rec.inOp ? rec.measured : rec.stats;
}
function* measure(ctx, rec, mm, op) {
  modelAssert(!rec.inOp && ctx.stats === rec.stats, "measured operations nest", () => `task ${rec.task}`);
  const rss = () => Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_ANON));
  if (rec.measured === null) {
    rec.rssBefore = rss();
    rec.measured = newCounters();
  }
  ctx.ptlFreedThisHold = 0;
  const startUs = ctx.now();
  const startHostUs = ctx.watchIsHost ? ctx.watchNow() : 0;
  rec.inOp = true;
  ctx.stats = rec.measured;
  yield op;
  rec.inOp = false;
  ctx.stats = rec.stats;
  rec.measured.ops++;
  rec.measured.opTimeUs += Math.round(ctx.now() - startUs);
  if (ctx.watchIsHost) ctx.lat.hostOpTimeUs += ctx.watchNow() - startHostUs;
  rec.rssAfter = rss();
}
function* roundsOf(ctx) {
  const endUs = ctx.config.durationMs > 0 ? ctx.config.durationMs * 1e3 : Infinity;
  for (let round2 = 0; round2 < ctx.config.rounds && ctx.watchNow() < endUs; round2++) yield round2;
}
function taskRng(config, task) {
  return new Rng(config.seed * 7919 + task * 104729 + 1 >>> 0);
}
function tablesFor(pages) {
  return Math.ceil(pages / 512) + 4;
}
function gatherFrames(config) {
  return userTaskCount(config);
}

// src/workloads/munmap.ts
var READY = 0;
var WARMED = 1;
var DONE = 2;
var WARM_READS = 16;
var GUARD_START = REGION_BASE;
var RANGE_START = REGION_BASE + PAGES_PER_PMD;
var munmapWorkload = {
  name: "munmap",
  defaultPages: 1e3,
  about: "scenario R: one task per mm unmaps --pages pages of a file mapping (2 MiB aligned, guard below) while the other tasks read them",
  mappingsNeeded: () => 2,
  memoryNeeded: (c) => c.mms * (c.pages + 1 + tablesFor(c.pages + PAGES_PER_PMD)) + gatherFrames(c),
  *program(ctx, rec, spec) {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const readers = spec.peers - 1;
    if (spec.rank === 0) {
      yield mmapRanges(ctx, [[GUARD_START, GUARD_START + 1]]);
      yield mmapRanges(ctx, [[RANGE_START, RANGE_START + n]], true);
      yield touchRange(ctx, GUARD_START, GUARD_START + 1);
      yield touchRange(ctx, RANGE_START, RANGE_START + n);
      bumpWord(ctx, READY);
      yield waitWord(ctx, WARMED, readers, "munmap: waiting for readers to warm their TLBs");
      yield measure(ctx, rec, mm, doMunmap(ctx, mm, RANGE_START, RANGE_START + n));
      yield returnToUser(ctx, mm, RANGE_START, RANGE_START + n, "munmap");
      bumpWord(ctx, DONE);
      return;
    }
    yield waitWord(ctx, READY, 1, "munmap reader: waiting for the range");
    const rng = taskRng(ctx.config, ctx.task);
    const hot = Array.from({ length: WARM_READS }, () => RANGE_START + rng.below(n));
    for (let i = 0; i < ctx.config.readerAccesses; i++) {
      if (i === WARM_READS) bumpWord(ctx, WARMED);
      if (i >= WARM_READS && readWord(ctx, DONE) !== 0) break;
      yield userAccess(ctx, hot[i < WARM_READS ? i : rng.below(WARM_READS)], false);
    }
    if (ctx.config.readerAccesses <= WARM_READS) bumpWord(ctx, WARMED);
  }
};

// src/workloads/exit.ts
var TOUCHED = 0;
function stride(pages) {
  return Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}
var exitWorkload = {
  name: "exit",
  defaultPages: 1e3,
  about: "every task writes --pages pages of its own file mapping and exits; the last one of each mm runs exit_mmap (fullmm)",
  mappingsNeeded: maxPeers,
  memoryNeeded: (c) => userTaskCount(c) * (c.pages + tablesFor(c.pages)) + gatherFrames(c),
  *program(ctx, rec, spec) {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = REGION_BASE + spec.rank * stride(n);
    yield mmapRanges(ctx, [[start, start + n]], true);
    yield touchRange(ctx, start, start + n);
    bumpWord(ctx, TOUCHED);
    yield waitWord(ctx, TOUCHED, spec.peers, "exit: waiting for every task to touch its pages");
    yield measure(ctx, rec, mm, exitMm(ctx));
  }
};

// src/workloads/madvise.ts
var MAPPED = 0;
var TOUCHED2 = 1;
var MADVISE_ROUNDS = 3;
var READS_PER_ROUND = 16;
function madviseSpan(pages, cpus) {
  return Math.ceil((pages * cpus + Math.ceil(pages / 2)) / PAGES_PER_PMD) * PAGES_PER_PMD;
}
var madviseWorkload = {
  name: "madvise",
  defaultPages: 256,
  about: "tasks of one mm MADV_DONTNEED their own --pages subrange of a shared mapping while the others read it (--overlap: subranges overlap)",
  mappingsNeeded: () => 1,
  memoryNeeded: (c) => c.mms * (madviseSpan(c.pages, maxPeers(c)) + tablesFor(madviseSpan(c.pages, maxPeers(c)))) + gatherFrames(c),
  *program(ctx, rec, spec) {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const span = madviseSpan(n, spec.peers);
    if (spec.rank === 0) {
      yield mmapRanges(ctx, [[REGION_BASE, REGION_BASE + span]]);
      bumpWord(ctx, MAPPED);
    }
    yield waitWord(ctx, MAPPED, 1, "madvise: waiting for the mapping");
    const start = REGION_BASE + spec.rank * n;
    const end = start + (ctx.config.overlap ? n + Math.ceil(n / 2) : n);
    yield touchRange(ctx, start, end);
    bumpWord(ctx, TOUCHED2);
    yield waitWord(ctx, TOUCHED2, spec.peers, "madvise: waiting for every task to touch its pages");
    const rng = taskRng(ctx.config, ctx.task);
    for (let round2 = 0; round2 < MADVISE_ROUNDS; round2++) {
      for (let i = 0; i < READS_PER_ROUND; i++) yield userAccess(ctx, REGION_BASE + rng.below(span), false);
      yield measure(ctx, rec, mm, madviseDontneed(ctx, mm, start, end));
      yield returnToUser(ctx, mm, start, end, "madvise(MADV_DONTNEED)");
      yield touchRange(ctx, start, end);
    }
  }
};

// src/workloads/mix.ts
var AREA_BASE = REGION_BASE + PAGES_PER_PMD;
var READS_PER_ROUND2 = 32;
var mixWorkload = {
  name: "mix",
  defaultPages: 128,
  about: "munmap storms, page faults and MADV_DONTNEED by neighbouring tasks on the same pte pages (roles by rank: storm, faulter, reader)",
  mappingsNeeded: maxPeers,
  memoryNeeded: (c) => c.mms * (maxPeers(c) * c.pages + tablesFor(maxPeers(c) * c.pages + PAGES_PER_PMD)) + gatherFrames(c),
  *program(ctx, rec, spec) {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = AREA_BASE + spec.rank * n;
    const end = start + n;
    const role = spec.rank % 3;
    const rng = taskRng(ctx.config, ctx.task);
    if (role !== 0) {
      yield mmapRanges(ctx, [[start, end]]);
      yield touchRange(ctx, start, end);
    }
    for (const _round of roundsOf(ctx)) {
      if (role === 0) {
        yield mmapRanges(ctx, [[start, end]]);
        yield touchRange(ctx, start, end);
        yield measure(ctx, rec, mm, doMunmap(ctx, mm, start, end));
        yield returnToUser(ctx, mm, start, end, "munmap");
      } else if (role === 1) {
        yield measure(ctx, rec, mm, touchRange(ctx, start, end));
        yield measure(ctx, rec, mm, madviseDontneed(ctx, mm, start, end));
        yield returnToUser(ctx, mm, start, end, "madvise(MADV_DONTNEED)");
      } else {
        for (let i = 0; i < READS_PER_ROUND2; i++) yield userAccess(ctx, AREA_BASE + rng.below(spec.peers * n), false);
        yield measure(ctx, rec, mm, madviseDontneed(ctx, mm, start, end));
        yield returnToUser(ctx, mm, start, end, "madvise(MADV_DONTNEED)");
        yield touchRange(ctx, start, end);
      }
    }
  }
};

// src/mm/truncate.ts
var TRUNCATE_RESTARTS_MAX = 1e6;
var TRUNCATE_COUNT_MAX = 2147483647;
function vmaWord(ctx, v) {
  return ctx.m.vma(v.mm, v.slot, VMA_FIELD.TRUNCATE_COUNT);
}
function restartAddrOf(value) {
  return value < 0 ? -value - 1 : -1;
}
function encodeRestartAddr(vpn) {
  return -(vpn + 1);
}
function resetVmaTruncateCounts(ctx) {
  for (const v of iMmapVmas(ctx, 0)) ctx.mem[vmaWord(ctx, v)] = 0;
}
function* unmapMappingRangeVma(ctx, v, startAddr, endAddr, details) {
  const at = vmaWord(ctx, v);
  for (let pass = 0; ; pass++) {
    modelAssert(pass < TRUNCATE_RESTARTS_MAX, "unmap_mapping_range_vma does not finish", () => `mm ${v.mm} [${v.start}, ${v.end})`);
    const restart = restartAddrOf(ctx.mem[at]);
    if (restart >= 0 && startAddr < restart) {
      startAddr = restart;
      if (startAddr >= endAddr) {
        ctx.mem[at] = details.truncateCount;
        return true;
      }
    }
    const restartAddr = yield* zapPageRange(ctx, v, startAddr, endAddr, details, v.mm);
    const needBreak = needResched(ctx) || iMmapNeedbreak(ctx, details.iMmapLock);
    if (restartAddr >= endAddr) {
      ctx.mem[at] = details.truncateCount;
      if (!needBreak) return true;
    } else {
      modelAssert(restartAddr > startAddr, "unmap_vmas broke off without progress", () => `mm ${v.mm} at ${restartAddr}`);
      ctx.mem[at] = encodeRestartAddr(restartAddr);
      if (!needBreak) continue;
    }
    ctx.stats.iMmapLockBreaks++;
    yield iMmapUnlock(ctx);
    yield condResched(ctx);
    yield iMmapLock(ctx, "unmap_mapping_range");
    return false;
  }
}
function* unmapMappingRangeTree(ctx, details) {
  for (let restarts = 0; ; restarts++) {
    modelAssert(restarts < TRUNCATE_RESTARTS_MAX, "unmap_mapping_range restarts without end", () => `after ${restarts} restarts`);
    let dropped = false;
    for (const v of iMmapVmas(ctx, details.firstIndex)) {
      if (ctx.mem[vmaWord(ctx, v)] === details.truncateCount) continue;
      const zba = Math.max(details.firstIndex, v.pgoff);
      if (!(yield* unmapMappingRangeVma(ctx, v, v.start + zba - v.pgoff, v.end, details))) {
        dropped = true;
        break;
      }
    }
    if (!dropped) return;
  }
}
function* unmapMappingRange(ctx, holeBegin) {
  const details = { iMmapLock: iMmapLockWord(ctx), firstIndex: holeBegin, truncateCount: 0 };
  const caller = fnEnter(ctx, "unmap_mapping_range");
  yield iMmapLock(ctx, "unmap_mapping_range");
  const countAt = fileWord(ctx, FILE_FIELD.TRUNCATE_COUNT);
  let count = ctx.mem[countAt] + 1;
  if (count > TRUNCATE_COUNT_MAX) {
    resetVmaTruncateCounts(ctx);
    count = 1;
  }
  ctx.mem[countAt] = count;
  details.truncateCount = count;
  yield unmapMappingRangeTree(ctx, details);
  yield iMmapUnlock(ctx);
  ctx.fn = caller;
}
function* truncateFile(ctx, newSizePages) {
  modelAssert(Number.isInteger(newSizePages) && newSizePages >= 0, "truncate to a bad size", () => `${newSizePages} pages`);
  const guard = fileWord(ctx, FILE_FIELD.TRUNCATING);
  modelAssert(Atomics.compareExchange(ctx.mem, guard, 0, ctx.task + 1) === 0, "two truncates of the file at once (i_mutex is not modelled)", () => `task ${ctx.task}`);
  const caller = fnEnter(ctx, "truncate_pagecache");
  iSizeWrite(ctx, newSizePages);
  yield unmapMappingRange(ctx, newSizePages);
  yield truncateInodePages(ctx, newSizePages);
  yield unmapMappingRange(ctx, newSizePages);
  Atomics.store(ctx.mem, guard, 0);
  ctx.fn = caller;
}

// src/workloads/truncate.ts
var READY2 = 0;
var TRUNCATING = 1;
var DONE2 = 2;
var WRITTEN = 3;
var WARM_ACCESSES = 16;
var ACCESSES_AFTER = 16;
var FILE_MAP_START = REGION_BASE;
function lateMapStart(pages) {
  return FILE_MAP_START + Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}
function runWord(i) {
  return HDR.WORKLOAD + i;
}
var truncateWorkload = {
  name: "truncate",
  defaultPages: 256,
  about: "the leading task of each mm (--mms) writes --pages pages of a MAP_PRIVATE file mapping; one truncates the file to 0 while every other task keeps using its mapping",
  mappingsNeeded: () => 2,
  memoryNeeded: (c) => c.mms * (c.pages + tablesFor(c.pages)) + gatherFrames(c),
  *program(ctx, rec, spec) {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = FILE_MAP_START;
    if (spec.rank === 0) {
      yield mmapRanges(ctx, [[start, start + n]], true);
      yield touchRange(ctx, start, start + n);
      bumpWord(ctx, WRITTEN);
    }
    yield waitWord(ctx, WRITTEN, 1, "truncate: waiting for the mapping to be written");
    if (mm === 0 && spec.rank === 0) {
      yield waitWordAt(ctx, runWord(READY2), userTaskCount(ctx.config) - 1, "truncate: waiting for every mapper to warm its TLB");
      storeWordAt(ctx, runWord(TRUNCATING), 1);
      yield measure(ctx, rec, mm, truncateFile(ctx, 0));
      for (let other = 0; other < ctx.config.mms; other++) {
        yield returnToUser(ctx, other, start, start + n, "truncate");
        const rss = Atomics.load(ctx.mem, ctx.m.mm(other, MM_FIELD.RSS_ANON));
        modelAssert(rss <= 0, "a page of the file mapping survived truncate", () => `mm ${other}: MM_ANONPAGES ${rss}`);
      }
      storeWordAt(ctx, runWord(DONE2), 1);
      return;
    }
    const rng = taskRng(ctx.config, ctx.task);
    let mappedLate = false;
    let after = 0;
    const accesses = ctx.config.readerAccesses;
    for (let i = 0; i < accesses; i++) {
      if (i === WARM_ACCESSES) bumpWordAt(ctx, runWord(READY2));
      if (Atomics.load(ctx.mem, runWord(DONE2)) !== 0 && after++ >= ACCESSES_AFTER) break;
      if (!mappedLate && spec.rank === 0 && Atomics.load(ctx.mem, runWord(TRUNCATING)) !== 0) {
        mappedLate = true;
        const late = lateMapStart(n);
        yield mmapRanges(ctx, [[late, late + 1]], true);
      }
      if ((yield* userAccess(ctx, start + rng.below(n), rng.below(2) === 0)) === "segv") yield Step.USER;
    }
    if (accesses <= WARM_ACCESSES) bumpWordAt(ctx, runWord(READY2));
  }
};

// src/mm/mprotect.ts
function pteModify(pte, writable, dirtyAccountable) {
  if (!writable) return pte & ~PTE.WRITE;
  if (dirtyAccountable) return (pte & PTE.DIRTY) !== 0 ? pte | PTE.WRITE : pte;
  return pteFrame(pte) === ZERO_PAGE ? pte : pte | PTE.WRITE;
}
function* changePteRange(ctx, table, addr, end, writable, dirtyAccountable) {
  const ptl = pteLockptr(ctx, table);
  yield spinLock(ctx, ptl, LockClass.PTE_LOCK, "change_pte_range");
  ctx.ptlHeld++;
  do {
    const at = ctx.m.ptEntry(table, pteIndex(addr));
    if ((Atomics.load(ctx.mem, at) & PTE.PRESENT) === 0) continue;
    const ptent = Atomics.exchange(ctx.mem, at, 0);
    Atomics.store(ctx.mem, at, pteModify(ptent, writable, dirtyAccountable));
    yield Step.PTE;
  } while ((addr += 1) !== end);
  ctx.ptlHeld--;
  yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
}
function* changePmdRange(ctx, pmdTable, addr, end, writable, dirtyAccountable) {
  let next;
  do {
    next = addrEnd(addr, end, PMD_PAGES);
    const e = readEntry(ctx, pmdTable, pmdIndex(addr));
    if (e === 0) continue;
    yield changePteRange(ctx, pteFrame(e), addr, next, writable, dirtyAccountable);
  } while ((addr = next) !== end);
}
function* changePudRange(ctx, pudTable, addr, end, writable, dirtyAccountable) {
  let next;
  do {
    next = addrEnd(addr, end, PUD_PAGES);
    const e = readEntry(ctx, pudTable, pudIndex(addr));
    if (e === 0) continue;
    yield changePmdRange(ctx, pteFrame(e), addr, next, writable, dirtyAccountable);
  } while ((addr = next) !== end);
}
function* changeProtection(ctx, mm, start, end, writable, dirtyAccountable) {
  const pgd = pgdFrame(ctx, mm);
  let addr = start;
  let next;
  do {
    next = addrEnd(addr, end, PGD_PAGES);
    const e = readEntry(ctx, pgd, pgdIndex(addr));
    if (e === 0) continue;
    yield changePudRange(ctx, pteFrame(e), addr, next, writable, dirtyAccountable);
  } while ((addr = next) !== end);
  if (!ctx.traits.mprotectNoFlush) yield flushTlbMm(ctx, mm);
}
function* mprotectFixup(ctx, mm, vma, writable) {
  const newflags = writable ? vma.flags | VMA_FLAGS.WRITE : vma.flags & ~VMA_FLAGS.WRITE;
  if (newflags === vma.flags) return;
  Atomics.store(ctx.mem, ctx.m.vma(mm, vma.slot, VMA_FIELD.FLAGS), newflags);
  vma.flags = newflags;
  const shared = VMA_FLAGS.FILE | VMA_FLAGS.SHARED;
  const dirtyAccountable = writable && (newflags & shared) === shared && mappingCapAccountDirty(ctx);
  yield changeProtection(ctx, mm, vma.start, vma.end, writable, dirtyAccountable);
}
function* mprotectRange(ctx, mm, start, end, writable) {
  if (!(end > start)) throw new BadInput(`mprotect [${start}, ${end}) is empty`);
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, "sys_mprotect");
  yield downWrite(ctx, sem, "sys_mprotect");
  const list = vmas(ctx, mm).filter((v) => v.start < end && start < v.end);
  let covered = start;
  for (const v of list) {
    if (v.start < start || v.end > end) throw new BadInput(`mprotect [${start}, ${end}) splits mapping [${v.start}, ${v.end}); only whole mappings change protection`);
    if (v.start !== covered) throw new BadInput(`mprotect [${start}, ${end}): [${covered}, ${v.start}) is not mapped (ENOMEM)`);
    covered = v.end;
  }
  if (covered !== end) throw new BadInput(`mprotect [${start}, ${end}): [${covered}, ${end}) is not mapped (ENOMEM)`);
  const busyAt = ctx.m.mm(mm, MM_FIELD.WRPROTECT_BUSY);
  if (!writable) Atomics.add(ctx.mem, busyAt, 1);
  for (const v of list) yield mprotectFixup(ctx, mm, v, writable);
  if (!writable) Atomics.sub(ctx.mem, busyAt, 1);
  yield upWrite(ctx, sem);
  ctx.fn = caller;
}

// src/mm/exec.ts
var LATENCY_LIMIT = 64;
function* vmaAdjust(ctx, mm, vma, start, end) {
  const file = (vma.flags & VMA_FLAGS.FILE) !== 0;
  if (file) yield iMmapLock(ctx, "vma_adjust");
  ctx.mem[ctx.m.vma(mm, vma.slot, VMA_FIELD.START)] = start;
  ctx.mem[ctx.m.vma(mm, vma.slot, VMA_FIELD.END)] = end;
  vma.start = start;
  vma.end = end;
  if (file) yield iMmapUnlock(ctx);
}
function nextPmd(vpn) {
  return (Math.floor(vpn / PAGES_PER_PMD) + 1) * PAGES_PER_PMD;
}
function* movePtes(ctx, mm, vma, oldTable, oldAddr, oldEnd, newTable, newAddr) {
  const file = (vma.flags & VMA_FLAGS.FILE) !== 0;
  if (file) yield iMmapLock(ctx, "move_ptes");
  const oldPtl = pteLockptr(ctx, oldTable);
  const newPtl = pteLockptr(ctx, newTable);
  yield spinLock(ctx, oldPtl, LockClass.PTE_LOCK, "move_ptes");
  ctx.ptlHeld++;
  if (newPtl !== oldPtl) {
    yield spinLock(ctx, newPtl, LockClass.PTE_LOCK, "move_ptes");
    ctx.ptlHeld++;
  }
  for (; oldAddr < oldEnd; oldAddr++, newAddr++) {
    const oldAt = ctx.m.ptEntry(oldTable, pteIndex(oldAddr));
    if (Atomics.load(ctx.mem, oldAt) === 0) continue;
    const pte = Atomics.exchange(ctx.mem, oldAt, 0);
    yield Step.PTE;
    yield flushTlbPage(ctx, mm, oldAddr);
    const newAt = ctx.m.ptEntry(newTable, pteIndex(newAddr));
    modelAssert(Atomics.load(ctx.mem, newAt) === 0, "move_ptes onto a live pte", () => `vpn ${oldAddr} -> ${newAddr}`);
    Atomics.store(ctx.mem, newAt, pte);
    yield Step.PTE;
  }
  if (newPtl !== oldPtl) {
    ctx.ptlHeld--;
    yield spinUnlock(ctx, newPtl, LockClass.PTE_LOCK);
  }
  ctx.ptlHeld--;
  yield spinUnlock(ctx, oldPtl, LockClass.PTE_LOCK);
  if (file) yield iMmapUnlock(ctx);
}
function* movePageTables(ctx, mm, vma, oldAddr, newAddr, len) {
  const oldEnd = oldAddr + len;
  let extent = 0;
  for (; oldAddr < oldEnd; oldAddr += extent, newAddr += extent) {
    yield condResched(ctx);
    let next = nextPmd(oldAddr);
    if (next > oldEnd) next = oldEnd;
    extent = next - oldAddr;
    const oldTable = lookupPteTable(ctx, mm, oldAddr);
    if (oldTable === 0) continue;
    const newTable = yield* allocPteTable(ctx, mm, newAddr);
    next = nextPmd(newAddr);
    if (extent > next - newAddr) extent = next - newAddr;
    if (extent > LATENCY_LIMIT) extent = LATENCY_LIMIT;
    yield movePtes(ctx, mm, vma, oldTable, oldAddr, oldAddr + extent, newTable, newAddr);
  }
  return len + oldAddr - oldEnd;
}
function* shiftArgPagesLocked(ctx, mm, vma, shift) {
  const oldStart = vma.start;
  const oldEnd = vma.end;
  const length = oldEnd - oldStart;
  const newStart = oldStart - shift;
  const newEnd = oldEnd - shift;
  modelAssert(newStart <= newEnd, "BUG_ON(new_start > new_end)", () => `${newStart} > ${newEnd}`);
  if (findVma(ctx, mm, newStart)?.slot !== vma.slot) throw new BadInput(`shift_arg_pages: another mapping lies in [${newStart}, ${oldStart})`);
  yield vmaAdjust(ctx, mm, vma, newStart, oldEnd);
  const moved = yield* movePageTables(ctx, mm, vma, oldStart, newStart, length);
  modelAssert(moved === length, "move_page_tables fell short", () => `${moved} of ${length} pages`);
  const tlb = yield* tlbGatherMmu(ctx, mm, false);
  const next = vmas(ctx, mm).find((v) => v.start >= oldEnd);
  const ceiling = next ? next.start : 0;
  if (newEnd > oldStart) {
    yield freePgdRange(ctx, tlb, newEnd, oldEnd, newEnd, ceiling);
  } else {
    yield freePgdRange(ctx, tlb, oldStart, oldEnd, newEnd, ceiling);
  }
  yield tlb.finishMmu(ctx);
  yield vmaAdjust(ctx, mm, vma, newStart, newEnd);
}
function* shiftArgPages(ctx, mm, start, end, shiftPages) {
  if (!(shiftPages > 0) || !Number.isInteger(shiftPages)) throw new BadInput(`shift_arg_pages: shift ${shiftPages} must be a positive number of pages`);
  if (start - shiftPages < 0) throw new BadInput(`shift_arg_pages: [${start}, ${end}) cannot move down by ${shiftPages} pages`);
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, "shift_arg_pages");
  yield downWrite(ctx, sem, "setup_arg_pages");
  const vma = vmas(ctx, mm).find((v) => v.start === start && v.end === end);
  if (!vma) throw new BadInput(`shift_arg_pages: [${start}, ${end}) is not one mapping of mm ${mm}`);
  yield shiftArgPagesLocked(ctx, mm, vma, shiftPages);
  yield upWrite(ctx, sem);
  ctx.fn = caller;
}

// src/mm/writeback.ts
function testClearPageDirty(ctx, page) {
  return (Atomics.and(ctx.mem, flagsAt(ctx, page), ~PAGE_FLAG.DIRTY) & PAGE_FLAG.DIRTY) !== 0;
}
function* pageMkcleanOne(ctx, page, mm, vpn) {
  const table = lookupPteTable(ctx, mm, vpn);
  if (table === 0) return 0;
  const ptl = pteLockptr(ctx, table);
  yield spinLock(ctx, ptl, LockClass.PTE_LOCK, "page_mkclean_one");
  ctx.ptlHeld++;
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  const pte = Atomics.load(ctx.mem, at);
  let cleaned = 0;
  if (ptePresent(pte) && pteFrame(pte) === page && (pte & (PTE.DIRTY | PTE.WRITE)) !== 0) {
    const entry = Atomics.exchange(ctx.mem, at, 0);
    yield Step.PTE;
    if (!ctx.traits.mkcleanNoFlush) yield flushTlbPage(ctx, mm, vpn);
    Atomics.store(ctx.mem, at, entry & ~(PTE.WRITE | PTE.DIRTY));
    yield Step.PTE;
    ctx.stats.mkcleanPtes++;
    cleaned = 1;
  }
  ctx.ptlHeld--;
  yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
  return cleaned;
}
function* pageMkclean(ctx, page) {
  const { m, mem } = ctx;
  if (Atomics.load(mem, m.page(page, PAGE_FIELD.MAPCOUNT)) <= 0) return false;
  const caller = fnEnter(ctx, "page_mkclean");
  const busyAt = m.page(page, PAGE_FIELD.MKCLEAN_BUSY);
  Atomics.add(mem, busyAt, 1);
  const index = mem[m.page(page, PAGE_FIELD.INDEX)];
  let cleaned = 0;
  yield iMmapLock(ctx, "page_mkclean_file");
  for (const v of iMmapVmas(ctx, index)) {
    if (index < v.pgoff || index >= v.pgoff + v.end - v.start) continue;
    cleaned += yield* pageMkcleanOne(ctx, page, v.mm, v.start + index - v.pgoff);
  }
  yield iMmapUnlock(ctx);
  Atomics.sub(mem, busyAt, 1);
  ctx.fn = caller;
  return cleaned > 0;
}
function* clearPageDirtyForIo(ctx, page) {
  modelAssert((Atomics.load(ctx.mem, flagsAt(ctx, page)) & PAGE_FLAG.LOCKED) !== 0, "BUG_ON(!PageLocked(page))", () => `frame ${page}`);
  if (mappingCapAccountDirty(ctx)) {
    if (yield* pageMkclean(ctx, page)) {
      mark("mkcleanRedirty");
      yield setPageDirty(ctx, page);
    }
  }
  return testClearPageDirty(ctx, page);
}
function* writepage(ctx, page, index) {
  const { m, mem } = ctx;
  const treeLock2 = fileWord(ctx, FILE_FIELD.TREE_LOCK);
  yield spinLockIrqsave(ctx, treeLock2, LockClass.TREE_LOCK, "test_set_page_writeback");
  if ((Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) === 0) Atomics.and(mem, flagsAt(ctx, page), ~PAGE_FLAG.TAG_DIRTY);
  yield spinUnlockIrqrestore(ctx, treeLock2, LockClass.TREE_LOCK);
  Atomics.store(mem, m.fileDiskSlot(index), Atomics.load(mem, m.page(page, PAGE_FIELD.VERSION)));
  Atomics.add(mem, fileWord(ctx, FILE_FIELD.PAGES_WRITTEN), 1);
  ctx.stats.pagesWrittenBack++;
  yield Step.PTE;
}
function* writeCachePages(ctx, start, end) {
  const caller = fnEnter(ctx, "write_cache_pages");
  const last = Math.min(end, ctx.m.size.filePages);
  for (let index = Math.max(0, start); index < last; index++) {
    const seen = pageCacheLookup(ctx, index);
    if (seen === 0 || (Atomics.load(ctx.mem, flagsAt(ctx, seen)) & PAGE_FLAG.TAG_DIRTY) === 0) continue;
    const page = yield* findGetPage(ctx, index);
    if (page === 0) continue;
    yield lockPage(ctx, page, "write_cache_pages");
    if (pageCacheLookup(ctx, index) === page && (yield* clearPageDirtyForIo(ctx, page)) && index < iSizeRead(ctx)) {
      yield writepage(ctx, page, index);
    }
    unlockPage(ctx, page);
    yield freePage(ctx, page);
    yield condResched(ctx);
  }
  ctx.fn = caller;
}
function* vfsFsync(ctx) {
  ctx.stats.fsyncs++;
  if (!mappingCapAccountDirty(ctx)) return;
  yield writeCachePages(ctx, 0, ctx.m.size.filePages);
}
function* sysMsync(ctx, mm, start, end) {
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, "sys_msync");
  yield downRead(ctx, sem, "sys_msync");
  let at = start;
  for (let walked = 0; at < end; walked++) {
    modelAssert(walked <= MAX_VMAS * 2, "msync walks more vmas than an mm holds", () => `mm ${mm} [${start}, ${end})`);
    const vma = findVma(ctx, mm, at);
    if (!vma || vma.start >= end) break;
    at = vma.end;
    if ((vma.flags & (VMA_FLAGS.FILE | VMA_FLAGS.SHARED)) === (VMA_FLAGS.FILE | VMA_FLAGS.SHARED)) {
      yield upRead(ctx, sem);
      yield vfsFsync(ctx);
      if (at >= end) {
        ctx.fn = caller;
        return;
      }
      yield downRead(ctx, sem, "sys_msync");
    }
  }
  yield upRead(ctx, sem);
  ctx.fn = caller;
}

// src/mm/vmscan.ts
var REFS_CACHE_AND_RECLAIM = 2;
function* removeMapping(ctx, page, index) {
  const { m, mem } = ctx;
  const treeLock2 = fileWord(ctx, FILE_FIELD.TREE_LOCK);
  yield spinLockIrqsave(ctx, treeLock2, LockClass.TREE_LOCK, "__remove_mapping");
  const countAt = m.page(page, PAGE_FIELD.REFCOUNT);
  let removed = Atomics.compareExchange(mem, countAt, REFS_CACHE_AND_RECLAIM, 0) === REFS_CACHE_AND_RECLAIM;
  if (removed && (Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) !== 0) {
    Atomics.store(mem, countAt, REFS_CACHE_AND_RECLAIM);
    removed = false;
  }
  if (removed) {
    Atomics.store(mem, m.pageCacheSlot(index), 0);
    Atomics.sub(mem, fileWord(ctx, FILE_FIELD.NR_PAGES), 1);
    Atomics.and(mem, flagsAt(ctx, page), ~PAGE_FLAG.TAG_DIRTY);
    checkPageWritten(mem, m, ctx.oracle, page, index, ctx.cpu, "dropped by reclaim");
    ctx.stats.pageCacheRemovals++;
    ctx.stats.pagesReclaimed++;
    Atomics.store(mem, countAt, 1);
  }
  yield spinUnlockIrqrestore(ctx, treeLock2, LockClass.TREE_LOCK);
  return removed;
}
function* shrinkPageCache(ctx, nrToScan) {
  const { m, mem } = ctx;
  let dropped = 0;
  if (!mappingCapAccountDirty(ctx)) return 0;
  const caller = fnEnter(ctx, "shrink_page_list");
  let scanned = 0;
  for (let index = 0; index < m.size.filePages && scanned < nrToScan; index++) {
    if (pageCacheLookup(ctx, index) === 0) continue;
    scanned++;
    const page = yield* findGetPage(ctx, index);
    if (page === 0) continue;
    const locked = (Atomics.or(mem, flagsAt(ctx, page), PAGE_FLAG.LOCKED) & PAGE_FLAG.LOCKED) === 0;
    const mapped = Atomics.load(mem, m.page(page, PAGE_FIELD.MAPCOUNT)) > 0;
    if (mapped) mark("reclaimLeftMapped");
    if (locked && pageCacheLookup(ctx, index) === page && !mapped) {
      const dirty = (Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) !== 0;
      if (dirty && (yield* clearPageDirtyForIo(ctx, page)) && index < iSizeRead(ctx)) yield writepage(ctx, page, index);
      if ((Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) === 0 && (yield* removeMapping(ctx, page, index))) dropped++;
    }
    if (locked) unlockPage(ctx, page);
    yield freePage(ctx, page);
    yield condResched(ctx);
  }
  ctx.fn = caller;
  return dropped;
}

// src/workloads/program.ts
var BARRIER = 0;
function mmapsOf(ops) {
  return ops.flatMap((op) => op.op === "repeat" ? mmapsOf(op.ops) : op.op === "mmap" ? [op] : []);
}
function syncsFile(ops) {
  return ops.some((op) => op.op === "repeat" ? syncsFile(op.ops) : op.op === "msync" || op.op === "fsync" || op.op === "reclaim");
}
function scenarioOf(config) {
  modelAssert(config.scenario !== null, "workload scenario without a scenario", () => config.workload);
  return config.scenario;
}
function* readRange(ctx, start, end) {
  for (let vpn = start; vpn < end; vpn++) yield userAccess(ctx, vpn, false);
}
function* runOps(ctx, rec, spec, ops, barriers) {
  const mm = spec.mm;
  for (const op of ops) {
    if (op.op === "repeat") {
      for (let i = 0; i < op.times; i++) yield runOps(ctx, rec, spec, op.ops, barriers);
      continue;
    }
    if (op.op === "barrier") {
      barriers.passed++;
      bumpWord(ctx, BARRIER);
      yield waitWord(ctx, BARRIER, barriers.passed * spec.peers, `scenario: task ${ctx.task} at barrier ${barriers.passed}`);
      continue;
    }
    if (op.op === "sleep") {
      yield scheduleTimeout(ctx, op.ms * 1e3);
      continue;
    }
    const body = opPath(ctx, mm, op);
    if (op.measure) yield measure(ctx, rec, mm, body);
    else yield body;
    if ("start" in op && (op.op === "munmap" || op.op === "madvise")) {
      const start = REGION_BASE + op.start;
      yield returnToUser(ctx, mm, start, start + op.pages, op.op === "munmap" ? "munmap" : "madvise(MADV_DONTNEED)");
    }
  }
}
function* reclaimPath(ctx, pages) {
  yield shrinkPageCache(ctx, pages);
}
function opPath(ctx, mm, op) {
  if (op.op === "exit") return exitMm(ctx);
  if (op.op === "truncate") return truncateFile(ctx, op.pages);
  if (op.op === "fsync") return vfsFsync(ctx);
  if (op.op === "reclaim") return reclaimPath(ctx, op.pages);
  const start = REGION_BASE + op.start;
  const end = start + op.pages;
  switch (op.op) {
    case "mmap":
      return mmapRanges(ctx, [[start, end]], op.shared ? "shared" : op.file);
    case "write":
      return touchRange(ctx, start, end);
    case "read":
      return readRange(ctx, start, end);
    case "munmap":
      return doMunmap(ctx, mm, start, end);
    case "madvise":
      return madviseDontneed(ctx, mm, start, end);
    case "mprotect":
      return mprotectRange(ctx, mm, start, end, op.writable);
    case "msync":
      return sysMsync(ctx, mm, start, end);
    case "exec-shift":
      return shiftArgPages(ctx, mm, start, end, op.shift);
  }
}
function scenarioMemory(config) {
  const sc = scenarioOf(config);
  let pages = 0;
  for (const t of sc.tasks) for (const m of mmapsOf(t.program)) pages += m.pages + tablesFor(m.pages);
  return pages + gatherFrames(config) + PAGES_PER_PMD / 64;
}
var scenarioWorkload = {
  name: "scenario",
  defaultPages: 1,
  about: "the tasks and programs of a scenario file (shootdown run FILE.yaml)",
  // every file mapping maps the file from page 0, so its pages reach no further than the longest MAP_SHARED mapping
  filePagesNeeded: (c) => Math.max(0, ...scenarioOf(c).tasks.flatMap((t) => mmapsOf(t.program).filter((m) => m.shared).map((m) => m.pages))),
  mappingsNeeded: (c) => {
    const sc = scenarioOf(c);
    const perMm = /* @__PURE__ */ new Map();
    for (const t of sc.tasks) perMm.set(t.mm, (perMm.get(t.mm) ?? 0) + mmapsOf(t.program).length);
    return Math.min(MAX_VMAS + 1, Math.max(0, ...perMm.values()));
  },
  memoryNeeded: scenarioMemory,
  diskFile: (c) => scenarioOf(c).tasks.some((t) => syncsFile(t.program)),
  tasks: (c) => {
    const sc = scenarioOf(c);
    return sc.tasks.map((t, i) => {
      const peers = sc.tasks.filter((u) => u.mm === t.mm).length;
      const rank = sc.tasks.slice(0, i).filter((u) => u.mm === t.mm).length;
      return { cpu: t.cpu, mm: t.mm, kind: TaskKind.USER, rank, peers };
    });
  },
  *program(ctx, rec, spec) {
    const sc = scenarioOf(ctx.config);
    const task = sc.tasks[ctx.task];
    modelAssert(task !== void 0 && task.cpu === spec.cpu && task.mm === spec.mm, "scenario task out of place", () => `task ${ctx.task}`);
    yield runOps(ctx, rec, spec, task.program, { passed: 0 });
  }
};

// src/workloads/willitscale.ts
function slotStart(rank, pages) {
  return REGION_BASE + rank * Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}
function* access(ctx, vpn, write) {
  const r = yield* call(userAccess(ctx, vpn, write));
  modelAssert(r === "ok", "a will-it-scale access faulted", () => `task ${ctx.task} ${write ? "write" : "read"} at vpn ${vpn}`);
}
function* munmapAndReturn(ctx, start, end) {
  yield doMunmap(ctx, ctx.mm, start, end);
  yield returnToUser(ctx, ctx.mm, start, end, "munmap");
}
function* perPage(ctx, rec, spec, file, op) {
  const n = ctx.config.pages;
  const start = slotStart(spec.rank, n);
  const pgoff = file === "shared" ? filePgoff(ctx) : 0;
  for (const _round of roundsOf(ctx)) {
    yield mmapRanges(ctx, [[start, start + n]], file, pgoff);
    for (let vpn = start; vpn < start + n; vpn++) yield measure(ctx, rec, ctx.mm, op(ctx, vpn));
    yield munmapAndReturn(ctx, start, start + n);
  }
}
function writePage(ctx, vpn) {
  return access(ctx, vpn, true);
}
function* tlbFlushPage(ctx, vpn) {
  yield access(ctx, vpn, true);
  yield madviseDontneed(ctx, ctx.mm, vpn, vpn + 1);
  yield returnToUser(ctx, ctx.mm, vpn, vpn + 1, "madvise(MADV_DONTNEED)");
  yield access(ctx, vpn, false);
}
function userView(ctx, vpn) {
  const table = lookupPteTable(ctx, ctx.mm, vpn);
  const pte = table === 0 ? 0 : readEntry(ctx, table, pteIndex(vpn));
  if (!ptePresent(pte)) return { frame: 0, data: 0 };
  return { frame: pteFrame(pte), data: Atomics.load(ctx.mem, ctx.m.page(pteFrame(pte), PAGE_FIELD.DATA)) };
}
function* tlbFlush3Page(ctx, vpn) {
  yield access(ctx, vpn, true);
  const written = userView(ctx, vpn);
  yield madviseDontneed(ctx, ctx.mm, vpn, vpn + 1);
  yield returnToUser(ctx, ctx.mm, vpn, vpn + 1, "madvise(MADV_DONTNEED)");
  yield access(ctx, vpn, false);
  const read = userView(ctx, vpn);
  modelAssert(
    written.frame !== 0 && read.frame === written.frame && read.data === written.data && read.data >>> 20 === ctx.task + 1,
    "tlb_flush3: the data did not survive MADV_DONTNEED",
    () => `task ${ctx.task} vpn ${vpn}: wrote frame ${written.frame} data ${written.data}, read frame ${read.frame} data ${read.data}`
  );
}
function filePgoff(ctx) {
  return ctx.task * ctx.config.pages;
}
function* mmapMunmap(ctx, start, n, file) {
  yield mmapRanges(ctx, [[start, start + n]], file);
  yield munmapAndReturn(ctx, start, start + n);
}
function* mmapLoop(ctx, rec, spec, file) {
  const n = ctx.config.pages;
  const start = slotStart(spec.rank, n);
  for (const _round of roundsOf(ctx)) yield measure(ctx, rec, ctx.mm, mmapMunmap(ctx, start, n, file));
}
var allPages = (c) => userTaskCount(c) * (c.pages + tablesFor(c.pages)) + gatherFrames(c);
var onePage = (c) => userTaskCount(c) * (1 + tablesFor(c.pages)) + gatherFrames(c);
var filePages = (c) => userTaskCount(c) * c.pages;
var cachedPages = (c) => filePages(c) + userTaskCount(c) * tablesFor(c.pages) + gatherFrames(c);
var untouched = (c) => userTaskCount(c) * 4 + gatherFrames(c);
var tlbFlush1Workload = {
  name: "tlb_flush1",
  defaultPages: 256,
  about: "will-it-scale tlb_flush1: write, MADV_DONTNEED each page of a MAP_PRIVATE file mapping (an op per page; --pages 256 for 128 MB; the read-back maps the zero page for the page-cache page)",
  mappingsNeeded: maxPeers,
  memoryNeeded: onePage,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, true, tlbFlushPage)
};
var tlbFlush2Workload = {
  name: "tlb_flush2",
  defaultPages: 256,
  about: "will-it-scale tlb_flush2: write, MADV_DONTNEED, read back each page of 1 MB of anonymous memory (an op per page; full size)",
  mappingsNeeded: maxPeers,
  memoryNeeded: onePage,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, false, tlbFlushPage)
};
var tlbFlush3Workload = {
  name: "tlb_flush3",
  defaultPages: 256,
  about: "will-it-scale tlb_flush3: write, MADV_DONTNEED, read back each page of a MAP_SHARED file mapping (an op per page; --pages 256 for 128 MB; the page-cache page survives the zap and the read-back finds it)",
  mappingsNeeded: maxPeers,
  memoryNeeded: cachedPages,
  filePagesNeeded: filePages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, "shared", tlbFlush3Page)
};
var pageFault1Workload = {
  name: "page_fault1",
  defaultPages: 256,
  about: "will-it-scale page_fault1: write-fault every page of a fresh anonymous mapping, then munmap (an op per page; --pages 256 for 128 MB)",
  mappingsNeeded: maxPeers,
  memoryNeeded: allPages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, false, writePage)
};
var pageFault2Workload = {
  name: "page_fault2",
  defaultPages: 256,
  about: "will-it-scale page_fault2: write-fault every page of a MAP_PRIVATE file mapping, then munmap (an op per page; --pages 256 for 128 MB; each write copies the zero page, standing for the page-cache page)",
  mappingsNeeded: maxPeers,
  memoryNeeded: allPages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, true, writePage)
};
var pageFault3Workload = {
  name: "page_fault3",
  defaultPages: 256,
  about: "will-it-scale page_fault3: write-fault every page of a MAP_SHARED file mapping, then munmap (an op per page; --pages 256 for 128 MB; the faults after the first round find the page-cache pages)",
  mappingsNeeded: maxPeers,
  memoryNeeded: cachedPages,
  filePagesNeeded: filePages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, "shared", writePage)
};
var mmap1Workload = {
  name: "mmap1",
  defaultPages: 32768,
  about: "will-it-scale mmap1: mmap and munmap 128 MB of anonymous memory, untouched (an op per pair; full size)",
  mappingsNeeded: maxPeers,
  memoryNeeded: untouched,
  program: (ctx, rec, spec) => mmapLoop(ctx, rec, spec, false)
};
var mmap2Workload = {
  name: "mmap2",
  defaultPages: 32768,
  about: "will-it-scale mmap2: mmap and munmap 128 MB of a MAP_PRIVATE file mapping, untouched (an op per pair; full size; one file for all tasks)",
  mappingsNeeded: maxPeers,
  memoryNeeded: untouched,
  program: (ctx, rec, spec) => mmapLoop(ctx, rec, spec, true)
};

// src/workloads/exec.ts
var DONE3 = 0;
var HOT_PAGES = 8;
var STACK_BOUNDARY = 2 * PAGES_PER_PUD + 4 * PAGES_PER_PMD;
var FAR_SHIFT = 2 * PAGES_PER_PMD;
function stackAbove(pages) {
  return Math.ceil(pages / 2);
}
function stackRange(pages) {
  const above = stackAbove(pages);
  return [STACK_BOUNDARY - (pages - above), STACK_BOUNDARY + above];
}
function shiftFor(round2, pages) {
  return [stackAbove(pages), FAR_SHIFT, 1][round2 % 3];
}
function* execRounds(ctx, rec) {
  const n = ctx.config.pages;
  const mm = ctx.mm;
  const [start, end] = stackRange(n);
  for (const round2 of roundsOf(ctx)) {
    const shift = shiftFor(round2, n);
    yield mmapRanges(ctx, [[start, end]]);
    yield touchRange(ctx, start, end);
    yield measure(ctx, rec, mm, shiftArgPages(ctx, mm, start, end, shift));
    yield returnToUser(ctx, mm, start - shift, end, "execve");
    yield doMunmap(ctx, mm, start - shift, end - shift);
    yield returnToUser(ctx, mm, start - shift, end - shift, "munmap");
  }
  bumpWord(ctx, DONE3);
}
function* stackReader(ctx) {
  const [start, end] = stackRange(ctx.config.pages);
  const rng = taskRng(ctx.config, ctx.task);
  const hot = Array.from({ length: HOT_PAGES }, () => start + rng.below(end - start));
  for (let i = 0; i < ctx.config.readerAccesses && readWord(ctx, DONE3) === 0; i++) yield userAccess(ctx, hot[i % HOT_PAGES], false);
}
var execWorkload = {
  name: "exec",
  defaultPages: 64,
  about: "execve's shift_arg_pages in rounds: one task per mm moves a --pages stack down (overlapping, by 4 MiB, by a page) while the others read it",
  mappingsNeeded: () => 1,
  memoryNeeded: (c) => {
    if (c.pages < 3 || c.pages > 2 * (PAGES_PER_PMD - 1)) throw new BadInput(`--pages ${c.pages}: the exec workload's stack straddles one 2 MiB boundary with at least 2 pages above it, so it has 3 to ${2 * (PAGES_PER_PMD - 1)} pages`);
    return c.mms * (c.pages + 6) + gatherFrames(c);
  },
  *program(ctx, rec, spec) {
    if (spec.rank === 0) yield execRounds(ctx, rec);
    else yield stackReader(ctx);
  }
};

// src/workloads/pressure.ts
var TOUCHED3 = 0;
var DONE4 = 1;
var ROUND = 2;
var END = 3;
function memFree(ctx) {
  return Atomics.load(ctx.mem, HDR.FREE_TOP);
}
function tablesToMap(ctx, vpn) {
  const pud = readEntry(ctx, pgdFrame(ctx, ctx.mm), pgdIndex(vpn));
  if (pud === 0) return 3;
  const pmd = readEntry(ctx, pteFrame(pud), pudIndex(vpn));
  if (pmd === 0) return 2;
  return readEntry(ctx, pteFrame(pmd), pmdIndex(vpn)) === 0 ? 1 : 0;
}
function* fillMemory(ctx, start, pages) {
  yield mmapRanges(ctx, [[start, start + pages]]);
  for (let vpn = start; vpn < start + pages; vpn++) {
    const free = memFree(ctx);
    if (free === 0) break;
    const tables = tablesToMap(ctx, vpn);
    if (free >= tables + 1) yield access(ctx, vpn, true);
    else if (tables > 0 && free === tables) yield* access(ctx, vpn, false);
    else break;
  }
  return memFree(ctx);
}
function* oneGather(ctx, op) {
  const failed = ctx.stats.batchAllocFailures;
  const got = ctx.stats.batchAllocs;
  yield op;
  if (ctx.stats.batchAllocFailures === failed) return;
  ctx.stats.gatherLocalStarts++;
  if (ctx.stats.batchAllocs > got) ctx.stats.gatherUpgrades++;
}
function* waitRound(ctx, round2) {
  const watch = new SpinWatch(ctx, "pressure: waiting for the next round", USER_WAIT_LOCKUPS);
  for (; ; ) {
    if (Atomics.load(ctx.mem, wordAt(ctx, ROUND)) > round2) {
      sawWordAt(ctx, wordAt(ctx, ROUND));
      return true;
    }
    if (Atomics.load(ctx.mem, wordAt(ctx, END)) !== 0) {
      sawWordAt(ctx, wordAt(ctx, END));
      return false;
    }
    watch.tick();
    yield Step.YIELD;
  }
}
function* round(ctx, rec, peers, round2, start, end) {
  yield measure(ctx, rec, ctx.mm, oneGather(ctx, madviseDontneed(ctx, ctx.mm, start, end)));
  yield returnToUser(ctx, ctx.mm, start, end, "madvise(MADV_DONTNEED)");
  bumpWord(ctx, DONE4);
  yield waitWord(ctx, DONE4, peers * (round2 + 1), "pressure: waiting for every MADV_DONTNEED");
  yield touchRange(ctx, start, end);
  bumpWord(ctx, TOUCHED3);
  yield waitWord(ctx, TOUCHED3, peers * (round2 + 2), "pressure: waiting for every task to refault");
}
var pressureWorkload = {
  name: "pressure",
  defaultPages: 256,
  about: "tasks of one mm MADV_DONTNEED their --pages range with memory full (a hog takes every free frame): rework gathers start on 8 slots and move to 512",
  mappingsNeeded: (c) => maxPeers(c) + 1,
  memoryNeeded: (c) => {
    if (c.mms !== 1) throw new BadInput(`--mms ${c.mms}: the pressure workload runs its tasks in one mm (its hog fills the memory they all share)`);
    return maxPeers(c) * (c.pages + tablesFor(c.pages)) + gatherFrames(c);
  },
  *program(ctx, rec, spec) {
    const n = ctx.config.pages;
    const start = slotStart(spec.rank, n);
    yield mmapRanges(ctx, [[start, start + n]]);
    yield touchRange(ctx, start, start + n);
    bumpWord(ctx, TOUCHED3);
    if (spec.rank === 0) {
      yield waitWord(ctx, TOUCHED3, spec.peers, "pressure: waiting for every task to touch its range");
      yield fillMemory(ctx, slotStart(spec.peers, n), ctx.config.memoryPages);
      for (const r of roundsOf(ctx)) {
        storeWordAt(ctx, wordAt(ctx, ROUND), r + 1);
        yield round(ctx, rec, spec.peers, r, start, start + n);
      }
      storeWordAt(ctx, wordAt(ctx, END), 1);
      return;
    }
    for (let r = 0; r < ctx.config.rounds && (yield* waitRound(ctx, r)); r++) yield round(ctx, rec, spec.peers, r, start, start + n);
  }
};

// src/workloads/writeback.ts
var MAPPED2 = 0;
var WRITES_PER_ROUND = 4;
var SYNC_EVERY_ROUNDS = 2;
var ROUND_SLEEP_US = 100;
function* writeSome(ctx, start, pages, rng) {
  for (let i = 0; i < WRITES_PER_ROUND; i++) {
    if ((yield* userAccess(ctx, start + rng.below(pages), true)) === "segv") yield Step.USER;
  }
}
var writebackWorkload = {
  name: "writeback",
  defaultPages: 16,
  about: "tasks of several mms write a MAP_SHARED mapping of a disk file while one msyncs it, others mprotect theirs read-only and back, and the flusher writes pages back",
  defaults: { mms: 2, writeback: true },
  diskFile: () => true,
  mappingsNeeded: () => 1,
  filePagesNeeded: (c) => c.pages,
  memoryNeeded: (c) => c.mms * tablesFor(c.pages) + c.pages + gatherFrames(c),
  *program(ctx, rec, spec) {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = REGION_BASE;
    if (spec.rank === 0) {
      yield mmapRanges(ctx, [[start, start + n]], "shared");
      bumpWord(ctx, MAPPED2);
    }
    yield waitWord(ctx, MAPPED2, 1, "writeback: waiting for the mapping");
    const rng = taskRng(ctx.config, ctx.task);
    for (const round2 of roundsOf(ctx)) {
      yield writeSome(ctx, start, n, rng);
      if (round2 % SYNC_EVERY_ROUNDS !== SYNC_EVERY_ROUNDS - 1) {
      } else if (spec.rank === 0 && mm === 0) {
        yield measure(ctx, rec, mm, sysMsync(ctx, mm, start, start + n));
      } else if (spec.rank === 0) {
        yield measure(ctx, rec, mm, mprotectRange(ctx, mm, start, start + n, false));
        yield userAccess(ctx, start + rng.below(n), false);
        yield scheduleTimeout(ctx, ROUND_SLEEP_US);
        yield measure(ctx, rec, mm, mprotectRange(ctx, mm, start, start + n, true));
      }
      yield scheduleTimeout(ctx, ROUND_SLEEP_US);
    }
  }
};

// src/workloads/index.ts
var WORKLOADS = [
  munmapWorkload,
  exitWorkload,
  madviseWorkload,
  mixWorkload,
  truncateWorkload,
  tlbFlush1Workload,
  tlbFlush2Workload,
  tlbFlush3Workload,
  pageFault1Workload,
  pageFault2Workload,
  pageFault3Workload,
  mmap1Workload,
  mmap2Workload,
  execWorkload,
  pressureWorkload,
  writebackWorkload
];
function findWorkload(name) {
  return name === scenarioWorkload.name ? scenarioWorkload : WORKLOADS.find((w) => w.name === name);
}

// src/oracle/rules.ts
var Oracle = class {
  constructor(variant, seed, limit, stepNow, onViolation, onRecord = () => {
  }) {
    this.variant = variant;
    this.seed = seed;
    this.limit = limit;
    this.stepNow = stepNow;
    this.onViolation = onViolation;
    this.onRecord = onRecord;
  }
  variant;
  seed;
  limit;
  stepNow;
  onViolation;
  onRecord;
  violations = [];
  dropped = 0;
  report(rule, where, detail) {
    this.onViolation();
    if (this.violations.length >= this.limit) {
      this.dropped++;
      return;
    }
    const v = {
      rule,
      cpu: where.cpu,
      task: where.task,
      mm: where.mm,
      address: where.address ?? -1,
      frame: where.frame ?? -1,
      variant: this.variant,
      seed: this.seed,
      step: this.stepNow(),
      detail
    };
    this.violations.push(v);
    this.onRecord(v);
  }
};

// src/engine/boot.ts
function allTasks(config) {
  const tasks = findWorkload(config.workload)?.tasks?.(config) ?? userTasks(config);
  for (let cpu = 0; cpu < config.cpus; cpu++) {
    if (config.kworker) tasks.push({ cpu, mm: -1, kind: TaskKind.KWORKER, rank: -1, peers: 0 });
    if (config.probe) tasks.push({ cpu, mm: -1, kind: TaskKind.PROBE, rank: -1, peers: 0 });
  }
  if (config.writeback) tasks.push({ cpu: 0, mm: -1, kind: TaskKind.FLUSHER, rank: -1, peers: 0 });
  return tasks;
}
function layoutSizeFor(config) {
  return {
    cpus: config.cpus,
    pages: config.memoryPages,
    ptSlots: Math.ceil(config.memoryPages / 256) + 16 * config.mms + 16,
    mms: config.mms,
    tasks: allTasks(config).length,
    tlbEntries: config.tlbEntries,
    filePages: findWorkload(config.workload)?.filePagesNeeded?.(config) ?? 0
  };
}
function bootCtx(m, config, oracle) {
  const traits = findVariant(config.variant);
  if (!traits) throw new ModelAssert("unknown variant", config.variant);
  return newKctx({ m, cpu: 0, config, traits, oracle, rng: new Rng(config.seed), watchNow: () => 0, latencyStats: false });
}
function runToEnd(path) {
  const stack = new PathStack(path);
  for (let i = 0; ; i++) {
    if (stack.next() === PATH_DONE) return stack.result;
    if (i > 1e7) throw new ModelAssert("boot path does not end", "over 10M steps");
  }
}
function bootMachine(config) {
  const size = layoutSizeFor(config);
  if (size.tlbEntries % TLB_WAYS !== 0) throw new ModelAssert("TLB size", `${size.tlbEntries} is not a multiple of ${TLB_WAYS}`);
  const m = Machine.create(size);
  const mem = m.mem;
  mem[HDR.ONLINE_CPUS] = config.cpus;
  initAllocator(mem, m);
  const oracle = new Oracle(config.variant, config.seed, 16, () => 0, () => {
  });
  const ctx = bootCtx(m, config, oracle);
  const tasks = allTasks(config);
  if (config.immapLock === "mutex") mutexInit(mem, m.file(0, FILE_FIELD.I_MMAP_LOCK));
  mem[m.file(0, FILE_FIELD.ACCOUNT_DIRTY)] = config.diskFile ? 1 : 0;
  for (let mm = 0; mm < size.mms; mm++) {
    const pgd = runToEnd(allocPage(ctx, "GFP_KERNEL", PageState.PAGETABLE));
    mem[m.page(pgd, PAGE_FIELD.MM)] = mm + 1;
    mem[m.page(pgd, PAGE_FIELD.INDEX)] = 4;
    mem[m.mm(mm, MM_FIELD.PGD)] = pgd;
    mem[m.mm(mm, MM_FIELD.USERS)] = tasks.filter((t) => t.mm === mm).length;
  }
  tasks.forEach((t, i) => {
    mem[m.task(i, TASK_FIELD.CPU)] = t.cpu;
    mem[m.task(i, TASK_FIELD.MM)] = t.mm;
    mem[m.task(i, TASK_FIELD.KIND)] = t.kind;
  });
  mem[HDR.LIVE_TASKS] = tasks.filter((t) => t.kind === TaskKind.USER).length;
  mem[HDR.RUN_STATE] = RunState.RUNNING;
  return { m, tasks };
}

// src/engine/clocks.ts
var { HOLD, ACT, USER_WAIT } = CLOCK_SLOT;
var IDLE_HOLD = NaN;
var MinOfOthers = class {
  min1 = Infinity;
  min2 = Infinity;
  argMin = -1;
  take(values, n, stride2 = 1, offset = 0) {
    let min1 = Infinity;
    let min2 = Infinity;
    let arg = -1;
    for (let c = 0; c < n; c++) {
      const h = values[c * stride2 + offset];
      if (h < min1) {
        min2 = min1;
        min1 = h;
        arg = c;
      } else if (h < min2) {
        min2 = h;
      }
    }
    this.min1 = min1;
    this.min2 = min2;
    this.argMin = arg;
  }
  others(c) {
    return c === this.argMin ? this.min2 : this.min1;
  }
};
function effectiveHoldNs(holdNs, actNs, othersActNs) {
  if (!Number.isNaN(holdNs)) return holdNs;
  return actNs <= othersActNs ? actNs : Infinity;
}
function skewBoundNs(config) {
  return config.modelClocks && config.clockSkewUs > 0 ? config.clockSkewUs * 1e3 : Infinity;
}
function mayStep(boundNs, clockNs, waits, othersHoldNs) {
  return waits || clockNs <= othersHoldNs + boundNs;
}
var DEFAULT_CLOCK_SKEW_US = 20;

// src/engine/configure.ts
var MAX_CPUS = 31;
var MAX_MACHINE_BYTES = 4 * 1024 ** 3;
function parseDuration(flag, v) {
  if (v === void 0) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new BadInput(`${flag} ${JSON.stringify(v)}: not a duration (examples: 10s, 500ms, 2m)`);
  const ms = Number(m[1]) * { ms: 1, s: 1e3, m: 6e4 }[m[2] ?? "ms"];
  if (ms > 24 * 3600 * 1e3) throw new BadInput(`${flag} ${v}: longer than a day`);
  return Math.round(ms);
}
function parseCrash(v) {
  if (v === void 0) return null;
  const m = /^(\d+):(\d+)$/.exec(v.trim());
  if (!m) throw new BadInput(`--crash ${JSON.stringify(v)}: must be cpu:step`);
  return { cpu: Number(m[1]), step: Number(m[2]) };
}
function int(flag, v, dflt, min, max) {
  if (v === void 0) return dflt;
  const s = String(v).trim();
  if (!/^-?\d+$/.test(s)) throw new BadInput(`${flag} ${JSON.stringify(String(v))}: not an integer`);
  const n = Number(s);
  if (n < min) throw new BadInput(`${flag} ${n}: must be at least ${min}`);
  if (n > max) throw new BadInput(`${flag} ${n}: must be at most ${max}`);
  return n;
}
function oneOf(flag, v, dflt, allowed) {
  if (v === void 0) return dflt;
  if (!allowed.includes(v)) throw new BadInput(`${flag} ${JSON.stringify(v)}: must be one of ${allowed.join(", ")}`);
  return v;
}
function parseAllocFail(v) {
  if (v === void 0 || v === "never") return { kind: "never" };
  if (v === "always") return { kind: "always" };
  if (v === "once") return { kind: "once" };
  const p = Number(v);
  if (v.trim() === "" || !Number.isFinite(p) || p < 0 || p > 1) throw new BadInput(`--alloc-fail ${JSON.stringify(v)}: must be never, always, once, or a probability between 0 and 1`);
  return { kind: "probability", p };
}
function parseMemory(v) {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(v.trim());
  if (!m) throw new BadInput(`--memory ${JSON.stringify(v)}: not a size (examples: 64M, 1G, 524288)`);
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase()];
  const bytes = Number(m[1]) * unit;
  if (bytes < PAGE_SIZE) throw new BadInput(`--memory ${v}: smaller than one page`);
  return Math.floor(bytes / PAGE_SIZE);
}
function makeConfig(o, variantFlag = "--variant") {
  const variant = o.variant ?? "rework";
  if (!findVariant(variant)) throw new BadInput(`${variantFlag} ${JSON.stringify(variant)}: unknown (known: ${VARIANTS.map((v) => v.name).join(", ")})`);
  const workloadName = o.scenario ? "scenario" : o.workload ?? "munmap";
  const workload = findWorkload(workloadName);
  if (workloadName === "scenario" && !o.scenario) throw new BadInput("--workload scenario: runs only from a scenario file (shootdown run FILE.yaml)");
  if (!workload) throw new BadInput(`--workload ${JSON.stringify(workloadName)}: unknown (known: ${WORKLOADS.map((w) => w.name).join(", ")})`);
  const config = {
    variant,
    workload: workloadName,
    mode: oneOf("--mode", o.mode, "deterministic", ["deterministic", "parallel"]),
    seed: int("--seed", o.seed, 1, 0, 2 ** 32 - 1),
    cpus: int("--cpus", o.cpus, 4, 1, MAX_CPUS),
    pages: int("--pages", o.pages, workload.defaultPages, 1, 4e6),
    preempt: oneOf("--preempt", o.preempt, "full", ["none", "voluntary", "full"]),
    allocFail: parseAllocFail(o.allocFail),
    memoryPages: 0,
    tlbEntries: int("--tlb-entries", o.tlbEntries, 64, TLB_WAYS, 65536),
    overlap: o.overlap ?? false,
    readerAccesses: int("--reader-accesses", o.readerAccesses, 1e6, 0, 1e9),
    maxSteps: int("--max-steps", o.maxSteps, 5e8, 1e3, 2 ** 53),
    lockupMs: int("--lockup-ms", o.lockupMs, 2e3, 10, 36e5),
    tasksPerCpu: int("--tasks-per-cpu", o.tasksPerCpu, workload.defaults?.tasksPerCpu ?? 1, 1, 16),
    mms: int("--mms", o.mms, workload.defaults?.mms ?? 1, 1, MAX_MMS),
    immapLock: oneOf("--immap-lock", o.immapLock, "spinlock", ["spinlock", "mutex"]),
    probe: o.probe ?? false,
    kworker: o.kworker ?? true,
    latencyStats: o.latencyStats ?? true,
    durationMs: parseDuration("--duration", o.duration),
    rounds: int("--rounds", o.rounds, 10, 1, 1e9),
    diskFile: false,
    writeback: o.writeback ?? workload.defaults?.writeback ?? false,
    crash: parseCrash(o.crash),
    traceLimit: o.trace ? int("--trace-limit", o.traceLimit, 2e5, 100, 5e7) : 0,
    strategy: { kind: "random" },
    scenario: o.scenario ?? null,
    costs: o.costs ?? defaultCosts(),
    modelClocks: o.modelClocks ?? true,
    clockSkewUs: o.clockSkew === "none" ? 0 : int("--clock-skew", o.clockSkew, DEFAULT_CLOCK_SKEW_US, 1, 1e6)
  };
  if (o.scenario) {
    const perCpu = /* @__PURE__ */ new Map();
    for (const t of o.scenario.tasks) perCpu.set(t.cpu, (perCpu.get(t.cpu) ?? 0) + 1);
    config.tasksPerCpu = Math.max(1, ...perCpu.values());
    config.mms = Math.max(...o.scenario.tasks.map((t) => t.mm)) + 1;
  }
  config.diskFile = config.writeback || (workload.diskFile?.(config) ?? false);
  const strategy = oneOf("--strategy", o.strategy, "random", ["random", "pct"]);
  if (strategy === "pct") config.strategy = { kind: "pct", depth: int("--depth", o.depth, 3, 1, 20), steps: int("--pct-steps", o.pctSteps, 1e5, 1, 2 ** 40) };
  if (strategy !== "random" && config.mode === "parallel") throw new BadInput(`--strategy ${strategy}: schedules are chosen only in deterministic mode`);
  if (!o.scenario && config.mms > config.cpus * config.tasksPerCpu) {
    throw new BadInput(`--mms ${config.mms}: more address spaces than the ${config.cpus * config.tasksPerCpu} user tasks (--cpus x --tasks-per-cpu)`);
  }
  if (config.crash && config.crash.cpu >= config.cpus) throw new BadInput(`--crash ${o.crash}: cpu ${config.crash.cpu} does not exist`);
  if (config.tlbEntries % TLB_WAYS !== 0) throw new BadInput(`--tlb-entries ${config.tlbEntries}: must be a multiple of ${TLB_WAYS}`);
  const mappings = workload.mappingsNeeded(config);
  if (mappings > MAX_VMAS) {
    throw new BadInput(`--tasks-per-cpu ${config.tasksPerCpu}: workload ${workloadName} needs ${mappings} mappings in one mm, more than the ${MAX_VMAS} an mm holds (use more --mms)`);
  }
  const needed = workload.memoryNeeded(config) + 2 + config.mms;
  config.memoryPages = o.memory === void 0 ? Math.max(1024, needed * 2 + 256) : parseMemory(o.memory);
  if (config.memoryPages < needed) {
    throw new BadInput(`--memory ${o.memory}: ${config.memoryPages} pages cannot hold workload ${workloadName} with --pages ${config.pages} on ${config.cpus} cpus, which needs at least ${needed} pages (${Math.ceil(needed * PAGE_SIZE / 1024 ** 2)} MiB)`);
  }
  const bytes = layoutBytes(layoutSizeFor(config));
  if (bytes > MAX_MACHINE_BYTES) {
    throw new BadInput(`--memory ${o.memory ?? "(default)"}: the machine would need ${Math.ceil(bytes / 1024 ** 2)} MiB of shared memory, more than the ${MAX_MACHINE_BYTES / 1024 ** 3} GiB limit`);
  }
  return config;
}

// src/engine/strategy.ts
var IRQ_DEFER_STEPS_MAX = 64;
var PREEMPT_DENSITY_LOG2_RANGE = 12;
var IRQ_DEFER_P_MAX = 63 / 64;
var RandomDecisions = class {
  rng;
  /** The chance to preempt at each preemption point where another task could run. */
  preemptP;
  /** The chance to put off a pending interrupt at each step point. */
  irqDeferP;
  constructor(seed) {
    this.rng = new Rng((seed ^ 1540483477) >>> 0);
    this.preemptP = 2 ** (-(this.rng.u32() / 4294967296) * PREEMPT_DENSITY_LOG2_RANGE);
    const u = this.rng.u32() / 4294967296;
    this.irqDeferP = u < 0.5 ? 0 : (u - 0.5) * 2 * IRQ_DEFER_P_MAX;
  }
  preempt(others) {
    if (!this.rng.chance(this.preemptP)) return -1;
    return others.length === 1 ? 0 : this.rng.below(others.length);
  }
  resched() {
    return this.rng.chance(this.preemptP);
  }
  takeInterrupt() {
    return this.irqDeferP === 0 || !this.rng.chance(this.irqDeferP);
  }
};
var RandomChooser = class {
  rng;
  decisions;
  constructor(seed) {
    this.rng = new Rng(seed);
    this.decisions = new RandomDecisions(seed);
  }
  choose(ready) {
    return ready.length === 1 ? 0 : this.rng.below(ready.length);
  }
  preempt(_cpu, _current, others) {
    return this.decisions.preempt(others);
  }
  resched() {
    return this.decisions.resched();
  }
  takeInterrupt() {
    return this.decisions.takeInterrupt();
  }
};
var PctChooser = class {
  constructor(seed, tasks, cpus, depth, horizonSteps) {
    this.tasks = tasks;
    this.horizonSteps = horizonSteps;
    const rng = new Rng(seed);
    const threads = tasks + cpus;
    this.priority = Array.from({ length: threads }, (_, i) => depth + i);
    for (let i = threads - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [this.priority[i], this.priority[j]] = [this.priority[j], this.priority[i]];
    }
    for (let i = 1; i < depth; i++) this.changes.set(1 + rng.below(Math.max(1, horizonSteps)), depth - i);
    this.lowest = depth;
    this.fair = new RandomChooser(seed);
  }
  tasks;
  horizonSteps;
  /** By task, then each cpu's interrupt context (entity tasks + cpu). */
  priority;
  /** step -> the priority the running task drops to there */
  changes = /* @__PURE__ */ new Map();
  view = null;
  fair;
  unfair = true;
  /** The lowest priority any thread has: priorities only ever drop, so it is kept rather than searched for at every wait. */
  lowest;
  attach(view) {
    this.view = view;
  }
  waited(_cpu, task) {
    if (task >= 0) this.priority[task] = --this.lowest;
  }
  /** The thread of `cpu` that PCT would run now: its next task, a higher-ranked one that may preempt it, or its interrupt context. */
  best(cpu) {
    const view = this.view;
    let task = view.nextTask(cpu);
    if (task < 0) return this.tasks + cpu;
    for (const o of view.preemptors(cpu)) if (this.priority[o] > this.priority[task]) task = o;
    return task;
  }
  rank(cpu) {
    return this.priority[this.best(cpu)];
  }
  highest(ready) {
    let best = 0;
    let bestRank = this.rank(ready[0]);
    for (let i = 1; i < ready.length; i++) {
      const r = this.rank(ready[i]);
      if (r > bestRank) [best, bestRank] = [i, r];
    }
    return best;
  }
  choose(ready, step) {
    if (step >= this.horizonSteps) this.unfair = false;
    if (!this.unfair) return this.fair.choose(ready);
    const drop = this.changes.get(step);
    if (ready.length === 1 && drop === void 0) return 0;
    let best = this.highest(ready);
    if (drop !== void 0) {
      this.priority[this.best(ready[best])] = drop;
      this.lowest = Math.min(this.lowest, drop);
      best = this.highest(ready);
    }
    return best;
  }
  preempt(cpu, current, others) {
    if (!this.unfair) return this.fair.preempt(cpu, current, others);
    let best = -1;
    let bestPriority = this.priority[current];
    for (let i = 0; i < others.length; i++) {
      if (this.priority[others[i]] > bestPriority) [best, bestPriority] = [i, this.priority[others[i]]];
    }
    return best;
  }
  /** A higher-priority task is runnable: its wake-up would have set need_resched (check_preempt_curr). */
  resched(cpu, current, others) {
    if (!this.unfair) return this.fair.resched();
    return this.preempt(cpu, current, others) >= 0;
  }
  takeInterrupt(cpu) {
    if (!this.unfair) return this.fair.takeInterrupt();
    const task = this.view.nextTask(cpu);
    return task < 0 || this.priority[this.tasks + cpu] > this.priority[task];
  }
};
var RecordingChooser = class {
  constructor(inner, log) {
    this.inner = inner;
    this.log = log;
  }
  inner;
  log;
  step = 0;
  attach(view) {
    this.inner.attach?.(view);
  }
  waited(cpu, task) {
    this.inner.waited?.(cpu, task);
  }
  choose(ready, step) {
    this.step = step;
    const i = this.inner.choose(ready, step);
    this.log.record(ready[i]);
    return i;
  }
  preempt(cpu, current, others) {
    const i = this.inner.preempt(cpu, current, others);
    if (i >= 0) this.log.preemptions.push(this.step, others[i]);
    return i;
  }
  resched(cpu, current, others) {
    const set = this.inner.resched(cpu, current, others);
    if (set) this.log.reschedules.push(this.step);
    return set;
  }
  takeInterrupt(cpu, deferred) {
    const take = this.inner.takeInterrupt(cpu, deferred);
    if (!take) this.log.irqDeferrals.push(this.step);
    return take;
  }
};
var ReplayChooser = class {
  constructor(recorded, after) {
    this.recorded = recorded;
    this.after = after;
    const runs = recorded.decisions;
    this.left = runs[1] ?? 0;
    let steps = 0;
    for (let i = 1; i < runs.length; i += 2) steps += runs[i];
    this.recordedSteps = steps;
    for (let i = 0; i + 1 < recorded.preemptions.length; i += 2) this.preemptAt.set(recorded.preemptions[i], recorded.preemptions[i + 1]);
    this.deferAt = new Set(recorded.irqDeferrals);
    this.reschedAt = new Set(recorded.reschedules);
  }
  recorded;
  after;
  at = 0;
  left;
  step = 0;
  recordedSteps;
  preemptAt = /* @__PURE__ */ new Map();
  deferAt;
  reschedAt;
  attach(view) {
    this.after.attach?.(view);
  }
  waited(cpu, task) {
    this.after.waited?.(cpu, task);
  }
  choose(ready, step) {
    this.step = step;
    const runs = this.recorded.decisions;
    while (this.at < runs.length && this.left === 0) {
      this.at += 2;
      this.left = runs[this.at + 1] ?? 0;
    }
    if (this.at < runs.length) {
      const i = ready.indexOf(runs[this.at]);
      if (i >= 0) {
        this.left--;
        return i;
      }
      this.at = runs.length;
    }
    return this.after.choose(ready, step);
  }
  preempt(cpu, current, others) {
    if (this.step >= this.recordedSteps) return this.after.preempt(cpu, current, others);
    const task = this.preemptAt.get(this.step);
    return task === void 0 ? -1 : others.indexOf(task);
  }
  resched(cpu, current, others) {
    if (this.step >= this.recordedSteps) return this.after.resched(cpu, current, others);
    return this.reschedAt.has(this.step);
  }
  takeInterrupt(cpu, deferred) {
    if (this.step >= this.recordedSteps) return this.after.takeInterrupt(cpu, deferred);
    return !this.deferAt.has(this.step);
  }
};
function makeChooser(config, tasks, replay) {
  const base2 = config.strategy.kind === "pct" ? new PctChooser(config.seed, tasks, config.cpus, config.strategy.depth, config.strategy.steps) : new RandomChooser(config.seed);
  return replay ? new ReplayChooser(replay, base2) : base2;
}
function recording2(chooser, log) {
  return new RecordingChooser(chooser, log);
}

// src/workloads/kthreads.ts
var KWORKER_PERIOD_US = 4e3;
var FLUSHER_PERIOD_US = 1e3;
var PROBE_PERIOD_US = 100;
var KTHREAD_LOOPS_MAX = 1e9;
function kthreadShouldStop(ctx) {
  return Atomics.load(ctx.mem, HDR.LIVE_TASKS) === 0 || ctx.m.stopped;
}
function* kworkerThread(ctx) {
  for (let i = 0; i < KTHREAD_LOOPS_MAX && !kthreadShouldStop(ctx); i++) {
    yield spinLockIrqsave(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK, "kworker: drain_local_pages");
    ctx.stats.kworkerRuns++;
    yield spinUnlockIrqrestore(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK);
    yield scheduleTimeout(ctx, KWORKER_PERIOD_US);
  }
}
function* probeThread(ctx) {
  let next = ctx.now() + PROBE_PERIOD_US;
  for (let i = 0; i < KTHREAD_LOOPS_MAX; i++) {
    yield scheduleTimeout(ctx, next - ctx.now());
    if (kthreadShouldStop(ctx)) return;
    const nowUs = ctx.now();
    ctx.lat.recordUs("probeWakeup", nowUs - next);
    ctx.stats.probeWakeups++;
    next += PROBE_PERIOD_US * Math.max(1, Math.ceil((nowUs - next) / PROBE_PERIOD_US));
  }
}
function* bdiFlusherThread(ctx) {
  for (let i = 0; i < KTHREAD_LOOPS_MAX && !kthreadShouldStop(ctx); i++) {
    yield scheduleTimeout(ctx, FLUSHER_PERIOD_US);
    if (kthreadShouldStop(ctx)) return;
    ctx.stats.flusherRuns++;
    yield writeCachePages(ctx, 0, ctx.m.size.filePages);
  }
}

// src/engine/runner.ts
var TICK_US = 1e3;
var TIMESLICE_US = 3 * TICK_US;
var KTHREAD_FN = { [TaskKind.KWORKER]: "worker_thread", [TaskKind.PROBE]: "probe_thread", [TaskKind.FLUSHER]: "bdi_writeback_thread" };
function kthreadFn(kind) {
  const fn = KTHREAD_FN[kind];
  modelAssert(fn !== void 0, "a kernel thread with no thread function", () => `kind ${kind}`);
  return fn;
}
var CpuRunner = class {
  /** `watchNow`: the watchdog's clock, µs (ctx.watchNow). */
  constructor(m, cpu, config, tasks, oracle, watchNow) {
    this.cpu = cpu;
    const traits = findVariant(config.variant);
    const workload = findWorkload(config.workload);
    if (!traits || !workload) throw new ModelAssert("run config", `unknown variant ${config.variant} or workload ${config.workload}`);
    this.workload = workload;
    this.ctx = newKctx({
      m,
      cpu,
      config,
      traits,
      oracle,
      rng: new Rng((config.seed ^ Math.imul(cpu + 1, 2654435761)) >>> 0),
      watchNow,
      stats: this.idleStats,
      latencyStats: config.latencyStats
    });
    this.slots = tasks.map((spec, index) => ({ spec, index })).filter((t) => t.spec.cpu === cpu).map(({ spec, index }) => {
      const rec = { task: index, cpu, mm: spec.mm, kind: spec.kind, stats: newCounters(), measured: null, inOp: false, rssBefore: 0, rssAfter: 0, finished: false };
      this.records.push(rec);
      return { index, spec, rec, path: null, at: -1, onRq: true, exited: false, mm: spec.mm, preemptCount: 0, irqsDisabled: 0, ptlHeld: 0, ptlFreedThisHold: 0, gatherDepth: 0, timerWakeAtNs: Infinity, sleptAtUs: 0, fn: spec.kind === TaskKind.USER ? USER_FN : kthreadFn(spec.kind) };
    });
    this.hasKthreads = this.slots.some((s) => s.spec.kind !== TaskKind.USER);
    this.crashAtStep = config.crash && config.crash.cpu === cpu ? config.crash.step : -1;
  }
  cpu;
  ctx;
  records = [];
  slots;
  curr = null;
  /** Round-robin position in `slots`. */
  cursor = 0;
  workload;
  idleStats = newCounters();
  steps = 0;
  /** When the next scheduler tick is due, model ns. */
  nextTickNs = TICK_US * 1e3;
  sliceStartUs = 0;
  kthreadsStopped = false;
  crashAtStep;
  hasKthreads;
  /** The strategy's decisions, in deterministic mode; null in parallel mode, where the host decides. */
  decider = null;
  /** Steps the pending interrupts have been put off. */
  irqDeferred = 0;
  /** By kernel function: [passed, preempted] for each step kind. */
  points = /* @__PURE__ */ new Map();
  othersBuf = [];
  /** The kind of the last step a task took here, or -1 when the cpu went idle. */
  lastKind = -1;
  /** HDR.WORD_EPOCH when the task last yielded in a user-space wait. */
  yieldEpoch = 0;
  state(s) {
    return Atomics.load(this.ctx.mem, this.ctx.m.task(s.index, TASK_FIELD.STATE));
  }
  runnable(s) {
    return !s.exited && (s.onRq || this.state(s) === TaskState.RUNNING);
  }
  /** Every task on this cpu has exited. */
  get done() {
    return this.slots.every((s) => s.exited);
  }
  /** A task could run now (the current one is not blocked, or another is runnable). */
  get busy() {
    const c = this.curr;
    if (c !== null && c.at !== Step.SLEEP) return true;
    for (const s of this.slots) if (this.runnable(s)) return true;
    return false;
  }
  earliestTimerNs = Infinity;
  /** Timers change only at a context switch and when they fire. */
  updateEarliestTimer() {
    let t = Infinity;
    for (const s of this.slots) if (!s.exited && s.timerWakeAtNs < t) t = s.timerWakeAtNs;
    this.earliestTimerNs = t;
  }
  hasPendingIpi() {
    return Atomics.load(this.ctx.mem, this.ctx.m.cpu(this.cpu, CPU_FIELD.IPI_PENDING)) !== 0;
  }
  irqsEnabled() {
    return this.ctx.mem[this.ctx.m.cpu(this.cpu, CPU_FIELD.IRQS_DISABLED)] === 0;
  }
  kthreadsToStop() {
    return !this.kthreadsStopped && this.hasKthreads && Atomics.load(this.ctx.mem, HDR.LIVE_TASKS) === 0;
  }
  /** hrtimer expiry: wake sleepers whose time has come; the probe is real-time and preempts. */
  fireTimers(nowNs) {
    for (const s of this.slots) {
      if (s.exited || s.timerWakeAtNs > nowNs) continue;
      s.timerWakeAtNs = Infinity;
      wakeUpProcess(this.ctx, s.index, s.spec.kind === TaskKind.PROBE);
    }
    this.updateEarliestTimer();
  }
  /** scheduler_tick: end the current slice when another task waits; khungtaskd's check on lock sleepers. */
  schedulerTick(nowUs) {
    this.nextTickNs = (Math.floor(nowUs / TICK_US) + 1) * TICK_US * 1e3;
    const { ctx } = this;
    if (this.curr && nowUs - this.sliceStartUs >= TIMESLICE_US && this.slots.some((s) => s !== this.curr && this.runnable(s))) {
      Atomics.store(ctx.mem, ctx.m.cpu(this.cpu, CPU_FIELD.NEED_RESCHED), 1);
    }
    this.checkHungTasks();
  }
  /** khungtaskd: a task asleep on a lock (no timer) for HUNG_TASK_LOCKUPS lockup limits ends the run. */
  checkHungTasks() {
    const nowUs = this.ctx.watchNow();
    const hungUs = this.ctx.config.lockupMs * 1e3 * HUNG_TASK_LOCKUPS;
    for (const s of this.slots) {
      if (s.exited || s.onRq || s.timerWakeAtNs !== Infinity || this.state(s) !== TaskState.SLEEPING) continue;
      if (nowUs - s.sleptAtUs > hungUs) throw new SoftLockup(this.cpu, `task ${s.index} asleep on a lock`, `blocked for ${Math.round((nowUs - s.sleptAtUs) / 1e3)} ms (hung task)`);
    }
  }
  /**
   * Whether the current task may be switched out at the step point it
   * stopped at, need_resched being set. cond_resched (and might_resched under
   * voluntary) test only need_resched, as 2.6.38's should_resched does: in
   * atomic context, a bug already reported by might_sleep, they schedule
   * anyway. schedule() called by a task woken before it slept is a scheduling
   * point in every model.
   */
  preemptibleAt(at) {
    const { ctx } = this;
    const model = ctx.config.preempt;
    if (at === Step.RESCHED || at === Step.MIGHT_RESCHED && model === "voluntary") return true;
    if (ctx.mem[ctx.m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT)] !== 0 || !this.irqsEnabled()) return false;
    if (at === Step.USER || at === Step.YIELD || at === Step.SLEEP) return true;
    return model === "full";
  }
  /** The next runnable task other than the current one: the real-time probe first, then round robin. */
  pickNext() {
    const next = this.peekNext();
    if (next && next.spec.kind !== TaskKind.PROBE) this.cursor = this.slots.indexOf(next);
    return next;
  }
  /** The task pickNext would choose, leaving the round robin where it is. */
  peekNext() {
    const n = this.slots.length;
    for (const s of this.slots) if (s.spec.kind === TaskKind.PROBE && s !== this.curr && this.runnable(s)) return s;
    for (let i = 1; i <= n; i++) {
      const s = this.slots[(this.cursor + i) % n];
      if (s !== this.curr && this.runnable(s)) return s;
    }
    return null;
  }
  /** context_switch(prev, next): save prev's thread state, switch the mm, load next's. */
  contextSwitch(next, preempted) {
    const { ctx } = this;
    const { m, mem } = ctx;
    const pcAt = m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT);
    const irqAt = m.cpu(this.cpu, CPU_FIELD.IRQS_DISABLED);
    const prev = this.curr;
    if (prev) {
      prev.mm = ctx.mm;
      prev.preemptCount = mem[pcAt];
      prev.irqsDisabled = mem[irqAt];
      prev.ptlHeld = ctx.ptlHeld;
      prev.ptlFreedThisHold = ctx.ptlFreedThisHold;
      prev.gatherDepth = ctx.gatherDepth;
      prev.timerWakeAtNs = ctx.timerWakeAtNs;
      prev.fn = ctx.fn;
      mem[m.task(prev.index, TASK_FIELD.PREEMPT_COUNT)] = prev.preemptCount;
      ctx.trace?.instant(preempted ? "preempt" : "switch", "sched", ctx.now(), { prev: prev.index, next: next ? next.index : -1, inGather: prev.gatherDepth, at: `${prev.fn}:${STEP_NAMES[prev.at] ?? "START"}` });
      const prevStats = taskCounters(prev.rec);
      if (preempted) {
        prevStats.involuntarySwitches++;
        if (prev.gatherDepth > 0) {
          mark("preemptedInGather");
          prevStats.preemptionsInGather++;
        }
      } else if (!prev.exited) {
        prevStats.voluntarySwitches++;
      }
      if (preempted && prev.at !== Step.YIELD) this.countPoint(prev.fn, prev.at, 1);
      if (prev.preemptCount > 0 || prev.irqsDisabled > 0) sectionClose(ctx, "schedule");
      mem[irqAt] = 0;
    }
    Atomics.store(mem, m.cpu(this.cpu, CPU_FIELD.NEED_RESCHED), 0);
    Atomics.add(mem, m.cpu(this.cpu, CPU_FIELD.NR_SWITCHES), 1);
    this.curr = next;
    if (!next) {
      this.updateEarliestTimer();
      this.load(-1, -1, this.idleStats, 0);
      if (activeMm(ctx) >= 0) enterLazyTlb(ctx);
      return;
    }
    next.onRq = true;
    clockAtLeast(ctx, loadNs(mem, m.task(next.index, TASK_FIELD.WAKE_NS)) + ctx.costs.wakeupNs);
    if (next !== prev) charge(ctx, ctx.costs.contextSwitchNs);
    this.load(next.index, next.mm, taskCounters(next.rec), next.preemptCount);
    ctx.ptlHeld = next.ptlHeld;
    ctx.ptlFreedThisHold = next.ptlFreedThisHold;
    ctx.gatherDepth = next.gatherDepth;
    ctx.fn = next.fn;
    ctx.timerWakeAtNs = Infinity;
    next.timerWakeAtNs = Infinity;
    mem[irqAt] = next.irqsDisabled;
    if (next.preemptCount > 0 || next.irqsDisabled > 0) sectionOpen(ctx, "schedule");
    if (next.mm >= 0) switchMm(ctx, next.mm);
    else if (activeMm(ctx) >= 0) enterLazyTlb(ctx);
    this.sliceStartUs = ctx.now();
    this.updateEarliestTimer();
    if (next.path === null) next.path = new PathStack(this.start(next));
  }
  load(task, mm, stats, preemptCount2) {
    const { ctx } = this;
    ctx.task = task;
    ctx.mm = mm;
    ctx.stats = stats;
    ctx.mem[ctx.m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT)] = preemptCount2;
    Atomics.store(ctx.mem, ctx.m.cpu(this.cpu, CPU_FIELD.CURRENT_TASK), task + 1);
  }
  start(s) {
    if (s.spec.kind === TaskKind.KWORKER) return kworkerThread(this.ctx);
    if (s.spec.kind === TaskKind.PROBE) return probeThread(this.ctx);
    if (s.spec.kind === TaskKind.FLUSHER) return bdiFlusherThread(this.ctx);
    return this.workload.program(this.ctx, s.rec, s.spec);
  }
  finishCurrent() {
    const { ctx } = this;
    const s = this.curr;
    modelAssert(ctx.ptlHeld === 0 && ctx.mem[ctx.m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT)] === 0 && this.irqsEnabled(), "task ended in atomic context", () => `task ${ctx.task} on cpu ${this.cpu}`);
    modelAssert(ctx.gatherDepth === 0, "task ended inside a gather", () => `task ${ctx.task}`);
    s.rec.finished = true;
    s.exited = true;
    s.onRq = false;
    s.path = null;
    Atomics.store(ctx.mem, ctx.m.task(s.index, TASK_FIELD.STATE), TaskState.EXITED);
    if (s.spec.kind === TaskKind.USER && Atomics.sub(ctx.mem, HDR.LIVE_TASKS, 1) === 1) changedForAll(ctx.m);
    s.mm = ctx.mm;
    this.contextSwitch(null, false);
  }
  /**
   * Take pending interrupts, let the scheduler act, then one step of the
   * current task. Returns the step kind, or -1 if no task ran.
   */
  step() {
    const { ctx } = this;
    if (this.steps === this.crashAtStep) throw new Error(`injected crash on cpu ${this.cpu} at its step ${this.steps}`);
    if (this.irqsEnabled() && this.takeInterruptsNow()) {
      if (this.hasPendingIpi()) {
        const waits = this.curr === null || this.lastKind === Step.SPIN || this.lastKind === Step.YIELD && this.runnableOthers().length === 0;
        serviceIpis(ctx, waits ? Infinity : ctx.clockNs);
      }
      if (ctx.clockNs >= this.nextTickNs) this.schedulerTick(ctx.now());
      if (this.earliestTimerNs <= ctx.clockNs) this.fireTimers(ctx.clockNs);
    }
    if (this.kthreadsToStop()) {
      this.kthreadsStopped = true;
      for (const s2 of this.slots) if (!s2.exited && s2.spec.kind !== TaskKind.USER) wakeUpProcess(ctx, s2.index);
    }
    const curr = this.curr;
    if (curr) {
      if (curr.at === Step.SLEEP && this.state(curr) === TaskState.SLEEPING) {
        curr.onRq = false;
        curr.sleptAtUs = ctx.watchNow();
        this.contextSwitch(this.pickNext(), false);
      } else if (curr.at === Step.YIELD) {
        const next = this.pickNext();
        if (next) this.contextSwitch(next, true);
      } else {
        this.reschedule(curr);
      }
    } else {
      const next = this.pickNext();
      if (next) this.contextSwitch(next, false);
    }
    const s = this.curr;
    if (s === null) return this.lastKind = -1;
    this.steps++;
    const kind = s.path.next();
    if (kind === PATH_DONE) {
      this.finishCurrent();
      return this.lastKind = -1;
    }
    ctx.clockNs += ctx.stepCostNs[kind];
    if (kind === Step.YIELD) this.yieldEpoch = Atomics.load(ctx.mem, HDR.WORD_EPOCH);
    if (s.spec.kind === TaskKind.USER) this.activeUntilNs = ctx.clockNs;
    s.at = kind;
    return this.lastKind = kind;
  }
  /** The model time of this cpu's last step of a user task (ns): where the run's length ends. */
  activeUntilNs = 0;
  /** This cpu's model clock, ns. */
  get clockNs() {
    return this.ctx.clockNs;
  }
  /**
   * The cpu as the clocks see it (clocks.ts), worked out by observe() once
   * per look, since each part needs the runqueue walked:
   * - busy: a task could run;
   * - userWait: its task waits in user space and no other task of the cpu
   *   is runnable (and no workload word changed since it last looked);
   * - waits: it holds no running cpu back by its clock (idle, or its task
   *   only waits for another cpu: a spin, a user-space wait);
   * - work: something is due now (a task, an interrupt raised, a timer
   *   expired, kernel threads to stop);
   * - actNs: the earliest model time it may next make an event another cpu
   *   could see: its clock (a spinner's too: it acks IPIs at its clock);
   *   while idle or in a user-space wait, its next timer;
   * - holdNs: how far it holds the running cpus back: its clock while it
   *   runs; Infinity while it waits (a user-space waiter at its next timer
   *   holds there, as it will take the timer when it steps); IDLE_HOLD
   *   while idle, for the asking cpu to work out.
   */
  seen = { busy: false, userWait: false, waits: true, work: false, actNs: 0, holdNs: 0 };
  observe() {
    const v = this.seen;
    const clockNs = this.ctx.clockNs;
    const busy = this.busy;
    const waitsInUser = busy && this.lastKind === Step.YIELD && Atomics.load(this.ctx.mem, HDR.WORD_EPOCH) === this.yieldEpoch && this.runnableOthers().length === 0;
    const ipiPending = this.hasPendingIpi();
    const actsNow = busy && !waitsInUser || ipiPending || this.kthreadsToStop();
    v.busy = busy;
    v.userWait = waitsInUser;
    v.waits = !busy || ipiPending || this.lastKind === Step.SPIN || waitsInUser;
    v.work = busy || actsNow || this.earliestTimerNs <= clockNs;
    v.actNs = actsNow ? clockNs : Math.max(clockNs, this.earliestTimerNs);
    if (!busy) v.holdNs = actsNow ? clockNs : IDLE_HOLD;
    else if (this.lastKind === Step.SPIN) v.holdNs = Infinity;
    else if (waitsInUser) v.holdNs = this.earliestTimerNs <= clockNs ? clockNs : Infinity;
    else v.holdNs = clockNs;
  }
  /**
   * Its last step only waited for another cpu, and another step would only
   * wait again until a kick (pv.ts) says what it waits for changed: a failed
   * spin where no task may preempt it and no interrupt is raised, or a lone
   * user-space wait. Needs a fresh observe().
   */
  waitsForKick() {
    if (this.lastKind === Step.YIELD) return this.seen.userWait;
    return this.lastKind === Step.SPIN && !this.hasPendingIpi() && this.preemptors().length === 0;
  }
  /**
   * Time passes for a cpu that waits with nothing of its own to time it (an
   * idle cpu, a task in a user-space wait) only up to its next timer, and
   * only once no other cpu may act before it (`othersNs`, the others'
   * earliest act horizon): then it takes the timer at its expiry, however
   * far the others have run. Otherwise its clock stays: what it waits for
   * (a wake-up, an IPI, a workload word) carries its own time. An interrupt
   * already raised is taken first. Needs a fresh observe(); says whether
   * the clock moved (observe() again then).
   */
  followOthers(othersNs) {
    const v = this.seen;
    if (v.busy ? !v.userWait : v.actNs === this.ctx.clockNs && v.work) return false;
    const timerNs = this.earliestTimerNs;
    if (timerNs > othersNs || timerNs <= this.ctx.clockNs || timerNs === Infinity) return false;
    clockAtLeast(this.ctx, timerNs);
    return true;
  }
  /**
   * The scheduler's look at a running task: with need_resched set, switch if
   * the point allows it; otherwise a deterministic strategy may preempt here
   * (at a preemption point) or have a wake-up set need_resched (elsewhere).
   */
  reschedule(curr) {
    const { ctx } = this;
    const needAt = ctx.m.cpu(this.cpu, CPU_FIELD.NEED_RESCHED);
    const needResched2 = Atomics.load(ctx.mem, needAt) !== 0;
    if (!needResched2 && (this.decider === null || curr.at === -1 || this.slots.length < 2)) return;
    if (this.preemptibleAt(curr.at)) {
      if (!needResched2) return this.preemptIfChosen(curr);
      const next = this.pickNext();
      if (next) {
        this.countPoint(ctx.fn, curr.at, 0);
        this.contextSwitch(next, true);
      } else {
        Atomics.store(ctx.mem, needAt, 0);
      }
    } else if (!needResched2) {
      const others = this.runnableOthers();
      if (others.length > 0 && this.decider.resched(this.cpu, curr.index, others)) {
        mark("wakeupSetNeedResched");
        Atomics.store(ctx.mem, needAt, 1);
      }
    }
  }
  /** Let a deterministic strategy decide preemptions and interrupt timing on this cpu. */
  decideWith(decider) {
    this.decider = decider;
  }
  /**
   * Whether pending interrupts are taken at this step point: at once, unless
   * a task runs here and the strategy puts them off, which it may do for at
   * most IRQ_DEFER_STEPS_MAX steps of this cpu.
   */
  takeInterruptsNow() {
    if (this.decider === null || this.curr === null) return true;
    const clockNs = this.ctx.clockNs;
    if (!this.hasPendingIpi() && clockNs < this.nextTickNs && this.earliestTimerNs > clockNs) return true;
    if (this.irqDeferred >= IRQ_DEFER_STEPS_MAX || this.decider.takeInterrupt(this.cpu, this.irqDeferred)) {
      this.irqDeferred = 0;
      return true;
    }
    this.irqDeferred++;
    mark("interruptPutOff");
    return false;
  }
  /** The other tasks that are runnable now, by task number (a view into a reused buffer). */
  runnableOthers() {
    const out = this.othersBuf;
    let n = 0;
    for (const s of this.slots) if (s !== this.curr && this.runnable(s)) out[n++] = s.index;
    if (out.length !== n) out.length = n;
    return out;
  }
  /** At a preemption point with need_resched clear: the strategy may switch to another runnable task (the tick or a wake-up would have set it). */
  preemptIfChosen(curr) {
    const others = this.runnableOthers();
    if (others.length === 0) return;
    this.countPoint(this.ctx.fn, curr.at, 0);
    const i = this.decider.preempt(this.cpu, curr.index, others);
    if (i < 0) return;
    const next = this.slots.find((s) => s.index === others[i]);
    modelAssert(next !== void 0 && next !== curr, "a preemption chose a task that cannot run here", () => `task ${others[i]} on cpu ${this.cpu}`);
    this.contextSwitch(next, true);
  }
  countPoint(fn, at, preempted) {
    if (this.decider === null || at < 0) return;
    let counts = this.points.get(fn);
    if (!counts) this.points.set(fn, counts = new Int32Array(2 * STEP_NAMES.length));
    counts[2 * at + preempted]++;
  }
  /** The task this cpu steps next unless a strategy preempts it, or -1 when it has only interrupts or timers to take. */
  nextTask() {
    const c = this.curr;
    if (c !== null && !(c.at === Step.SLEEP && this.state(c) === TaskState.SLEEPING) && c.at !== Step.YIELD) return c.index;
    const next = this.peekNext();
    if (next) return next.index;
    return c !== null && c.at === Step.YIELD ? c.index : -1;
  }
  /** The tasks that could preempt the current task where it stopped: none unless that is a preemption point. */
  preemptors() {
    const c = this.curr;
    if (c === null || c.at === -1 || c.at === Step.YIELD || !this.preemptibleAt(c.at)) return [];
    if (c.at === Step.SLEEP && this.state(c) === TaskState.SLEEPING) return [];
    return this.runnableOthers();
  }
  /** Preemption points passed on this cpu and how often each was preempted. */
  preemptionPoints() {
    const out = [];
    for (const [fn, counts] of this.points) {
      for (let kind = 0; kind < STEP_NAMES.length; kind++) {
        const passed = counts[2 * kind];
        if (passed > 0 || counts[2 * kind + 1] > 0) out.push({ point: `${fn}:${STEP_NAMES[kind]}`, passed, preempted: counts[2 * kind + 1] });
      }
    }
    return out;
  }
  traceViolation(v) {
    this.ctx.trace?.instant(v.rule, "violation", this.ctx.now(), { detail: v.detail, task: v.task, frame: v.frame });
  }
  /** What this cpu measured, for the result. */
  report(threadId, violations, violationsDropped, error) {
    return {
      cpu: this.cpu,
      threadId,
      steps: this.steps,
      records: this.records,
      cpuStats: this.ctx.cpuStats,
      idleStats: this.idleStats,
      violations,
      violationsDropped,
      latency: this.ctx.lat.encode(),
      lockStat: this.ctx.lockStat.snapshot(),
      trace: this.ctx.trace ? { events: this.ctx.trace.events, dropped: this.ctx.trace.dropped } : null,
      error,
      activeUntilNs: this.activeUntilNs
    };
  }
};

// src/engine/dump.ts
function bits(mask) {
  const out = [];
  for (let i = 0; i < 31; i++) if (mask & 1 << i) out.push(i);
  return out.length ? out.join(",") : "-";
}
function heldSpinlocks(m, config) {
  const mem = m.mem;
  const held = /* @__PURE__ */ new Map();
  const note = (word, name) => {
    const owner = Atomics.load(mem, word + LOCK.OWNER);
    if (owner > 0 && spinIsLocked(mem, word)) held.set(owner - 1, [...held.get(owner - 1) ?? [], name]);
  };
  note(HDR.ZONE_LOCK, "zone->lock");
  for (let mm = 0; mm < m.size.mms; mm++) {
    note(m.mm(mm, MM_FIELD.PAGE_TABLE_LOCK), `mm ${mm} page_table_lock`);
    note(m.mm(mm, MM_FIELD.MMAP_SEM + RWSEM.WAIT_LOCK), `mm ${mm} mmap_sem.wait_lock`);
  }
  if (config.immapLock === "spinlock") note(m.file(0, FILE_FIELD.I_MMAP_LOCK), "i_mmap_lock");
  else note(m.file(0, FILE_FIELD.I_MMAP_LOCK + MUTEX.WAIT_LOCK), "i_mmap_mutex.wait_lock");
  note(m.file(0, FILE_FIELD.TREE_LOCK), "tree_lock");
  for (let f = 0; f < m.size.pages; f++) {
    if (Atomics.load(mem, m.page(f, PAGE_FIELD.STATE)) === PageState.PAGETABLE) note(m.page(f, PAGE_FIELD.PTL), `pte lock of frame ${f}`);
  }
  return held;
}
function heldSleepingLocks(m, config) {
  const mem = m.mem;
  const held = /* @__PURE__ */ new Map();
  const note = (task, name) => {
    if (task >= 0) held.set(task, [...held.get(task) ?? [], name]);
  };
  for (let mm = 0; mm < m.size.mms; mm++) {
    const sem = m.mm(mm, MM_FIELD.MMAP_SEM);
    if (mem[sem + RWSEM.ACTIVITY] === RWSEM_WRITER) note(mem[sem + RWSEM.OWNER] - 1, `mm ${mm} mmap_sem (write)`);
  }
  if (config.immapLock === "mutex") note(mem[m.file(0, FILE_FIELD.I_MMAP_LOCK + MUTEX.OWNER)] - 1, "i_mmap_mutex");
  return held;
}
function cpuStateDump(m, config) {
  const mem = m.mem;
  const spin = heldSpinlocks(m, config);
  const sleeping = heldSleepingLocks(m, config);
  const lines = [];
  for (let cpu = 0; cpu < m.size.cpus; cpu++) {
    const f = (field) => Atomics.load(mem, m.cpu(cpu, field));
    const task = f(CPU_FIELD.CURRENT_TASK) - 1;
    const locks = [...spin.get(cpu) ?? [], ...task >= 0 ? sleeping.get(task) ?? [] : []];
    lines.push(
      `cpu ${cpu}: task ${task < 0 ? "idle" : task}, preempt_count ${f(CPU_FIELD.PREEMPT_COUNT)}, irqs ${f(CPU_FIELD.IRQS_DISABLED) ? "off" : "on"}, need_resched ${f(CPU_FIELD.NEED_RESCHED)}, active_mm ${f(CPU_FIELD.ACTIVE_MM) - 1}${f(CPU_FIELD.TLBSTATE) === TlbState.LAZY ? " (lazy)" : ""}, IPIs pending from ${bits(f(CPU_FIELD.IPI_PENDING))}, waiting for acks from ${bits(f(CPU_FIELD.FLUSH_CPUMASK))}, holds ${locks.length ? locks.join("; ") : "nothing"}`
    );
  }
  const asleep = [];
  for (let t = 0; t < m.size.tasks; t++) {
    if (Atomics.load(mem, m.task(t, TASK_FIELD.STATE)) !== TaskState.SLEEPING) continue;
    const held = sleeping.get(t);
    asleep.push(`${t}${held ? ` (holds ${held.join("; ")})` : ""}`);
  }
  if (asleep.length) lines.push(`tasks asleep: ${asleep.join(", ")}`);
  return lines;
}

// src/engine/result.ts
import { availableParallelism } from "node:os";
var RESULT_SCHEMA = 3;
function assemble(config, reports, finalViolations, extra) {
  const clockUs = Math.max(0, ...reports.map((r) => r.activeUntilNs)) / 1e3;
  const measured = newCounters();
  const totals = newCounters();
  let rssBefore = 0;
  let rssAfter = 0;
  let measuredAny = false;
  for (const r of reports) {
    addCounters(totals, r.cpuStats);
    addCounters(totals, r.idleStats);
    for (const rec of r.records) {
      addCounters(totals, rec.stats);
      if (rec.measured) {
        addCounters(totals, rec.measured);
        addCounters(measured, rec.measured);
        if (!measuredAny) rssBefore = rec.rssBefore;
        rssAfter = rec.rssAfter;
        measuredAny = true;
      }
    }
  }
  const violations = [...reports.flatMap((r) => r.violations), ...finalViolations];
  violations.sort((a, b) => a.step - b.step || a.cpu - b.cpu);
  const firstError = extra.error ?? reports.find((r) => r.error && r.error.name !== "Poisoned")?.error ?? reports.find((r) => r.error)?.error ?? null;
  return {
    schema: RESULT_SCHEMA,
    variant: config.variant,
    workload: config.workload,
    mode: config.mode,
    seed: config.seed,
    config,
    violations,
    violationsDropped: reports.reduce((n, r) => n + r.violationsDropped, 0),
    counters: { ...measured, rssBefore, rssAfter },
    totals,
    opsPerSec: perSecond(measured.ops, clockUs / 1e3),
    clock: "model",
    clockUs: Math.round(clockUs * 1e3) / 1e3,
    host: {
      elapsedMs: Math.round(extra.elapsedMs * 1e3) / 1e3,
      runMs: Math.round(extra.runMs * 1e3) / 1e3,
      opsPerSec: perSecond(measured.ops, extra.runMs),
      stealMs: Math.round(reports.reduce((n, r) => n + (r.hostStealMs ?? 0), 0) * 1e3) / 1e3,
      cores: availableParallelism(),
      ipiAckWait: config.mode === "parallel" ? mergeHostIpiAckWait(reports.map((r) => r.latency)) : null,
      blocks: reports.reduce((n, r) => n + (r.hostBlocks ?? 0), 0),
      opTimeMs: config.mode === "parallel" ? Math.round(reports.reduce((n, r) => n + r.latency.hostOpTimeUs, 0)) / 1e3 : null
    },
    latency: mergeLatency(reports.map((r) => r.latency)),
    lockStat: mergeLockStat(reports.map((r) => r.lockStat)),
    ...config.traceLimit > 0 ? { trace: mergeTrace(config.cpus, reports.flatMap((r) => r.trace ? [r.trace] : []), { variant: config.variant, workload: config.workload, seed: config.seed, mode: config.mode, clock: "model" }) } : {},
    steps: extra.steps,
    threads: new Set(reports.map((r) => r.threadId)).size,
    maxConcurrentCpus: extra.maxConcurrentCpus,
    error: firstError
  };
}
function perSecond(n, ms) {
  return ms > 0 ? Math.round(n / ms * 1e3 * 100) / 100 : 0;
}
function errorOf(e, cpuStates) {
  if (e instanceof Error) return e.name === "SoftLockup" && cpuStates ? { name: e.name, message: e.message, cpuStates: cpuStates() } : { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

// src/engine/deterministic.ts
var VIOLATION_RECORD_LIMIT = 100;
var CHUNK_STEPS = 65536;
function runDeterministic(config, opts = {}) {
  const run = deterministicRun(config, opts);
  for (; ; ) {
    const r = run.next();
    if (r.done) return r.value;
  }
}
function* deterministicRun(config, opts) {
  const t0 = performance.now();
  const { m, tasks } = bootMachine(config);
  let steps = 0;
  let watchUs = 0;
  const runners = [];
  const oracle = new Oracle(config.variant, config.seed, VIOLATION_RECORD_LIMIT, () => steps, () => Atomics.add(m.mem, HDR.VIOLATIONS, 1), (v) => runners[v.cpu]?.traceViolation(v));
  for (let cpu = 0; cpu < config.cpus; cpu++) runners.push(new CpuRunner(m, cpu, config, tasks, oracle, () => watchUs));
  const actNs = new Float64Array(config.cpus);
  const holdNs = new Float64Array(config.cpus);
  const actMin = new MinOfOthers();
  const holdMin = new MinOfOthers();
  const boundNs = skewBoundNs(config);
  const bounded = boundNs !== Infinity;
  const base2 = opts.chooser ?? makeChooser(config, tasks.length, opts.replay);
  const chooser = opts.record ? recording2(base2, opts.record) : base2;
  const view = { nextTask: (cpu) => runners[cpu].nextTask(), preemptors: (cpu) => runners[cpu].preemptors() };
  chooser.attach?.(view);
  for (const r of runners) r.decideWith(chooser);
  const readyByLength = Array.from({ length: config.cpus + 1 }, (_, n) => new Array(n).fill(0));
  let error = null;
  let changed = -1;
  let parked = 0;
  let stepped = -1;
  let workMask = 0;
  let followMask = 0;
  const see = (r) => {
    r.observe();
    const v = r.seen;
    const bit2 = 1 << r.cpu;
    actNs[r.cpu] = v.actNs;
    workMask = v.work ? workMask | bit2 : workMask & ~bit2;
    followMask = !v.busy || v.userWait ? followMask | bit2 : followMask & ~bit2;
  };
  const allCpus = (1 << config.cpus) - 1;
  try {
    for (; ; ) {
      const kicked = m.changedCpus;
      changed = (changed | kicked) & allCpus;
      parked &= ~kicked;
      m.changedCpus = 0;
      if (opts.checkViews) {
        for (const r of runners) if ((changed & 1 << r.cpu) === 0) checkView(r);
      }
      for (let bits2 = changed; bits2 !== 0; bits2 &= bits2 - 1) see(runners[31 - Math.clz32(bits2 & -bits2)]);
      if (stepped >= 0 && (kicked & 1 << stepped) === 0 && runners[stepped].waitsForKick()) parked |= 1 << stepped;
      changed = 0;
      const follows = followMask !== 0;
      if (follows) {
        actMin.take(actNs, config.cpus);
        for (let bits2 = followMask; bits2 !== 0; bits2 &= bits2 - 1) {
          const r = runners[31 - Math.clz32(bits2 & -bits2)];
          if (r.followOthers(actMin.others(r.cpu))) see(r);
        }
      }
      let readyMask = workMask;
      if (bounded) {
        if (!follows) actMin.take(actNs, config.cpus);
        for (const r of runners) holdNs[r.cpu] = effectiveHoldNs(r.seen.holdNs, r.seen.actNs, actMin.others(r.cpu));
        holdMin.take(holdNs, config.cpus);
        for (let bits2 = workMask; bits2 !== 0; bits2 &= bits2 - 1) {
          const c = 31 - Math.clz32(bits2 & -bits2);
          if (!mayStep(boundNs, runners[c].clockNs, runners[c].seen.waits, holdMin.others(c))) readyMask &= ~(1 << c);
        }
      }
      if ((readyMask & parked) !== 0 && (readyMask & ~parked) !== 0) {
        mark("parkedSpinnerPassedOver");
        readyMask &= ~parked;
      }
      if (readyMask === 0) {
        if (runners.every((r) => r.done)) break;
        throw new SoftLockup(-1, "deterministic scheduler", "every task is asleep and no timer is set: a deadlock");
      }
      if (steps >= config.maxSteps) throw new SoftLockup(-1, "deterministic scheduler", `no end after ${steps} steps (--max-steps)`);
      if (steps % CHUNK_STEPS === 0 && steps > 0) {
        for (const r of runners) r.checkHungTasks();
        yield;
        if (opts.aborted?.()) {
          error = { name: "Interrupted", message: `stopped by a signal after ${steps} steps; the results so far are kept` };
          break;
        }
      }
      const readyCpus = cpusIn(readyMask, readyByLength);
      const chosen = runners[readyCpus[chooser.choose(readyCpus, steps)]];
      const kind = chosen.step();
      changed |= 1 << chosen.cpu;
      parked &= ~(1 << chosen.cpu);
      stepped = chosen.cpu;
      if (kind === Step.SPIN || kind === Step.YIELD || kind === -1) chooser.waited?.(chosen.cpu, chosen.ctx.task);
      steps++;
      watchUs += 1 / readyCpus.length;
    }
    if (!error) checkQuiescent(m.mem, m, oracle, 0);
  } catch (e) {
    error = errorOf(e, () => cpuStateDump(m, config));
    if (e instanceof SoftLockup) oracle.report("SOFT_LOCKUP", { cpu: e.cpu, task: -1, mm: -1 }, e.message);
  }
  const reports = runners.map((r, i) => i === 0 ? r.report(0, oracle.violations, oracle.dropped, null) : r.report(0, [], 0, null));
  const elapsedMs = performance.now() - t0;
  const result = assemble(config, reports, [], { steps, elapsedMs, runMs: elapsedMs, maxConcurrentCpus: 1, error });
  result.preemptionPoints = mergePoints(runners.flatMap((r) => r.preemptionPoints()));
  return result;
}
function cpusIn(mask, byLength) {
  let n = 0;
  for (let bits2 = mask; bits2 !== 0; bits2 &= bits2 - 1) n++;
  const list = byLength[n];
  let i = 0;
  for (let c = 0, bits2 = mask; bits2 !== 0; c++, bits2 >>>= 1) if ((bits2 & 1) !== 0) list[i++] = c;
  return list;
}
function checkView(r) {
  const kept = JSON.stringify(r.seen);
  r.observe();
  modelAssert(JSON.stringify(r.seen) === kept, "a cpu changed by another without a kick", () => `cpu ${r.cpu}: kept ${kept}, now ${JSON.stringify(r.seen)}`);
}
function mergePoints(points) {
  const by = /* @__PURE__ */ new Map();
  for (const p of points) {
    const q = by.get(p.point);
    if (q) {
      q.passed += p.passed;
      q.preempted += p.preempted;
    } else {
      by.set(p.point, { ...p });
    }
  }
  return [...by.values()].sort((a, b) => a.point.localeCompare(b.point));
}

// ../tmp/res2.mts
try { access.prototype.__n = "access"; } catch {}
try { acquire.prototype.__n = "acquire"; } catch {}
try { addToPageCache.prototype.__n = "addToPageCache"; } catch {}
try { allocLevel.prototype.__n = "allocLevel"; } catch {}
try { allocPage.prototype.__n = "allocPage"; } catch {}
try { allocPteTable.prototype.__n = "allocPteTable"; } catch {}
try { bdiFlusherThread.prototype.__n = "bdiFlusherThread"; } catch {}
try { call.prototype.__n = "call"; } catch {}
try { changePmdRange.prototype.__n = "changePmdRange"; } catch {}
try { changeProtection.prototype.__n = "changeProtection"; } catch {}
try { changePteRange.prototype.__n = "changePteRange"; } catch {}
try { changePudRange.prototype.__n = "changePudRange"; } catch {}
try { clearAndFree.prototype.__n = "clearAndFree"; } catch {}
try { clearPageDirtyForIo.prototype.__n = "clearPageDirtyForIo"; } catch {}
try { condResched.prototype.__n = "condResched"; } catch {}
try { deterministicRun.prototype.__n = "deterministicRun"; } catch {}
try { doMunmap.prototype.__n = "doMunmap"; } catch {}
try { doSharedFault.prototype.__n = "doSharedFault"; } catch {}
try { doWpPageShared.prototype.__n = "doWpPageShared"; } catch {}
try { downRead.prototype.__n = "downRead"; } catch {}
try { downWrite.prototype.__n = "downWrite"; } catch {}
try { execRounds.prototype.__n = "execRounds"; } catch {}
try { exitMm.prototype.__n = "exitMm"; } catch {}
try { exitMmap.prototype.__n = "exitMmap"; } catch {}
try { fillMemory.prototype.__n = "fillMemory"; } catch {}
try { findGetPage.prototype.__n = "findGetPage"; } catch {}
try { findOrCreatePage.prototype.__n = "findOrCreatePage"; } catch {}
try { flushTlb.prototype.__n = "flushTlb"; } catch {}
try { flushTlbOthers.prototype.__n = "flushTlbOthers"; } catch {}
try { freePage.prototype.__n = "freePage"; } catch {}
try { freePages.prototype.__n = "freePages"; } catch {}
try { freePgdRange.prototype.__n = "freePgdRange"; } catch {}
try { freePgtables.prototype.__n = "freePgtables"; } catch {}
try { freePmdRange.prototype.__n = "freePmdRange"; } catch {}
try { freePudRange.prototype.__n = "freePudRange"; } catch {}
try { handleMmFault.prototype.__n = "handleMmFault"; } catch {}
try { iMmapLock.prototype.__n = "iMmapLock"; } catch {}
try { iMmapUnlock.prototype.__n = "iMmapUnlock"; } catch {}
try { kworkerThread.prototype.__n = "kworkerThread"; } catch {}
try { lockPage.prototype.__n = "lockPage"; } catch {}
try { madviseDontneed.prototype.__n = "madviseDontneed"; } catch {}
try { measure.prototype.__n = "measure"; } catch {}
try { mightSleep.prototype.__n = "mightSleep"; } catch {}
try { mmapLoop.prototype.__n = "mmapLoop"; } catch {}
try { mmapMunmap.prototype.__n = "mmapMunmap"; } catch {}
try { mmapRanges.prototype.__n = "mmapRanges"; } catch {}
try { movePageTables.prototype.__n = "movePageTables"; } catch {}
try { movePtes.prototype.__n = "movePtes"; } catch {}
try { mprotectFixup.prototype.__n = "mprotectFixup"; } catch {}
try { mprotectRange.prototype.__n = "mprotectRange"; } catch {}
try { munmapAndReturn.prototype.__n = "munmapAndReturn"; } catch {}
try { mutexLock.prototype.__n = "mutexLock"; } catch {}
try { mutexLockSlowpath.prototype.__n = "mutexLockSlowpath"; } catch {}
try { mutexUnlock.prototype.__n = "mutexUnlock"; } catch {}
try { oneGather.prototype.__n = "oneGather"; } catch {}
try { pageMkclean.prototype.__n = "pageMkclean"; } catch {}
try { pageMkcleanOne.prototype.__n = "pageMkcleanOne"; } catch {}
try { perPage.prototype.__n = "perPage"; } catch {}
try { pgtableFreeTlb.prototype.__n = "pgtableFreeTlb"; } catch {}
try { preemptEnable.prototype.__n = "preemptEnable"; } catch {}
try { probeThread.prototype.__n = "probeThread"; } catch {}
try { pteOffsetMapLock.prototype.__n = "pteOffsetMapLock"; } catch {}
try { pteUnmapUnlock.prototype.__n = "pteUnmapUnlock"; } catch {}
try { readRange.prototype.__n = "readRange"; } catch {}
try { reclaimPath.prototype.__n = "reclaimPath"; } catch {}
try { removeMapping.prototype.__n = "removeMapping"; } catch {}
try { returnToUser.prototype.__n = "returnToUser"; } catch {}
try { reworkGatherMmu.prototype.__n = "reworkGatherMmu"; } catch {}
try { round.prototype.__n = "round"; } catch {}
try { roundsOf.prototype.__n = "roundsOf"; } catch {}
try { runOps.prototype.__n = "runOps"; } catch {}
try { schedule.prototype.__n = "schedule"; } catch {}
try { scheduleTimeout.prototype.__n = "scheduleTimeout"; } catch {}
try { setPageDirty.prototype.__n = "setPageDirty"; } catch {}
try { shiftArgPages.prototype.__n = "shiftArgPages"; } catch {}
try { shiftArgPagesLocked.prototype.__n = "shiftArgPagesLocked"; } catch {}
try { shrinkPageCache.prototype.__n = "shrinkPageCache"; } catch {}
try { sleepUntilGranted.prototype.__n = "sleepUntilGranted"; } catch {}
try { spinLock.prototype.__n = "spinLock"; } catch {}
try { spinLockIrqsave.prototype.__n = "spinLockIrqsave"; } catch {}
try { spinUnlock.prototype.__n = "spinUnlock"; } catch {}
try { spinUnlockIrqrestore.prototype.__n = "spinUnlockIrqrestore"; } catch {}
try { stackReader.prototype.__n = "stackReader"; } catch {}
try { sysMsync.prototype.__n = "sysMsync"; } catch {}
try { tlbFlush3Page.prototype.__n = "tlbFlush3Page"; } catch {}
try { tlbFlushPage.prototype.__n = "tlbFlushPage"; } catch {}
try { tlbGatherMmu.prototype.__n = "tlbGatherMmu"; } catch {}
try { tlbRemovePage.prototype.__n = "tlbRemovePage"; } catch {}
try { touchRange.prototype.__n = "touchRange"; } catch {}
try { truncateFile.prototype.__n = "truncateFile"; } catch {}
try { truncateInodePages.prototype.__n = "truncateInodePages"; } catch {}
try { unlinkFileVma.prototype.__n = "unlinkFileVma"; } catch {}
try { unmapMappingRange.prototype.__n = "unmapMappingRange"; } catch {}
try { unmapMappingRangeTree.prototype.__n = "unmapMappingRangeTree"; } catch {}
try { unmapMappingRangeVma.prototype.__n = "unmapMappingRangeVma"; } catch {}
try { unmapPageRange.prototype.__n = "unmapPageRange"; } catch {}
try { unmapRegion.prototype.__n = "unmapRegion"; } catch {}
try { unmapVmas.prototype.__n = "unmapVmas"; } catch {}
try { upRead.prototype.__n = "upRead"; } catch {}
try { upWrite.prototype.__n = "upWrite"; } catch {}
try { userAccess.prototype.__n = "userAccess"; } catch {}
try { vfsFsync.prototype.__n = "vfsFsync"; } catch {}
try { vmaAdjust.prototype.__n = "vmaAdjust"; } catch {}
try { vmaLinkFile.prototype.__n = "vmaLinkFile"; } catch {}
try { waitOnPageLocked.prototype.__n = "waitOnPageLocked"; } catch {}
try { waitRound.prototype.__n = "waitRound"; } catch {}
try { waitWordAt.prototype.__n = "waitWordAt"; } catch {}
try { writeCachePages.prototype.__n = "writeCachePages"; } catch {}
try { writeSome.prototype.__n = "writeSome"; } catch {}
try { writepage.prototype.__n = "writepage"; } catch {}
try { zapPageRange.prototype.__n = "zapPageRange"; } catch {}
try { zapPmdRange.prototype.__n = "zapPmdRange"; } catch {}
try { zapPresentPte.prototype.__n = "zapPresentPte"; } catch {}
try { zapPteRangeLegacy.prototype.__n = "zapPteRangeLegacy"; } catch {}
try { zapPteRangeRework.prototype.__n = "zapPteRangeRework"; } catch {}
try { zapPudRange.prototype.__n = "zapPudRange"; } catch {}
for (const w of [process.argv[2] ?? "page_fault1"]) {
  const r = runDeterministic(makeConfig({ variant: "rework", workload: w, clockSkew: "none", seed: 1, latencyStats: false }));
  const m = globalThis.__byName;
  console.log(w, "steps", r.steps);
  for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((v / r.steps).toFixed(3), k);
}
