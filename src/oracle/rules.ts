// The oracle's rules. Each rule is checked where it can be decided cheaply and
// reports a typed record; a real variant must never produce one, and every
// mutant must. Records carry everything needed to find the event again: the
// rule, where (cpu, task, mm, address, frame) and under what (variant, seed).

export const RULES = {
  STALE_TLB_ACCESS: 'a user access went through a TLB entry whose frame was freed or reused',
  FREE_WHILE_REMOTE_TLB: "a frame was freed while another cpu's TLB still mapped it",
  TLB_AFTER_RETURN: 'munmap or madvise returned to user space while a TLB still held a translation it had cleared',
  DOUBLE_FREE: 'a frame was freed twice',
  FREE_LIVE_PAGE_TABLE: 'a page-table page was freed while entries in it were still live (its mm would use freed memory)',
  BAD_PAGE_MAP: "print_bad_pte: a page's mapcount went below zero (one mapping removed twice)",
  PAGE_LEAK: 'frames neither free, nor mapped, nor queued in a gather (free + in use + queued != total)',
  RSS_MISMATCH: "an mm's rss counters differ from what its page tables map",
  SLEEP_IN_ATOMIC: 'a sleeping function was called with preemption or interrupts disabled',
  LOCK_NOT_OWNER: 'a lock was released by a cpu that did not hold it',
  LOST_WRITE: "a page-cache page was dropped, or the run ended, clean while its data was newer than the disk's: a write landed after the page was cleaned and nothing dirtied it again",
  WRITE_AFTER_WRPROTECT: 'a write went through a writable TLB entry after the mprotect or page_mkclean that write-protected its pte had finished',
  SOFT_LOCKUP: 'a cpu stayed in one spin or ack wait past --lockup-ms, or a task slept on a lock 60 times that long (a hung task)',
} as const;
export type Rule = keyof typeof RULES;

export interface Violation {
  rule: Rule;
  cpu: number;
  task: number;
  mm: number;
  /** Byte address in the user address space, or -1. */
  address: number;
  frame: number;
  variant: string;
  seed: number;
  /** Deterministic mode: the step at which it fired; parallel: -1. */
  step: number;
  detail: string;
}

/** Collects violations on one cpu (or one deterministic run), bounded. */
export class Oracle {
  readonly violations: Violation[] = [];
  dropped = 0;
  constructor(
    readonly variant: string,
    readonly seed: number,
    readonly limit: number,
    private readonly stepNow: () => number,
    private readonly onViolation: () => void,
    /** Called with each violation recorded (the trace marks it on its cpu). */
    private readonly onRecord: (v: Violation) => void = () => {},
  ) {}

  report(rule: Rule, where: { cpu: number; task: number; mm: number; address?: number; frame?: number }, detail: string): void {
    this.onViolation();
    if (this.violations.length >= this.limit) {
      this.dropped++;
      return;
    }
    const v: Violation = {
      rule,
      cpu: where.cpu,
      task: where.task,
      mm: where.mm,
      address: where.address ?? -1,
      frame: where.frame ?? -1,
      variant: this.variant,
      seed: this.seed,
      step: this.stepNow(),
      detail,
    };
    this.violations.push(v);
    this.onRecord(v);
  }
}
