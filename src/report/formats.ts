// The files shootdown writes, as types: a run's result (RunResult, schema in
// src/engine/result.ts), a comparison, a scaling sweep, a hunt campaign and
// the race table across designs. `shootdown report` reads any mix of them.

import type { RunResult } from '../engine/result.ts';
import { RESULT_SCHEMA } from '../engine/result.ts';
import type { HistoryFile } from './history.ts';

export type { HistoryFile };

export interface CompareFile {
  schema: typeof RESULT_SCHEMA;
  command: 'compare';
  results: RunResult[];
}

/** One row of the will-it-scale-style CSV (column names are the CSV's). */
export interface ScaleRow {
  cpus: number;
  variant: string;
  ops_per_sec: number;
  /** ops_per_sec of this variant at the smallest cpu count, times cpus / that count. */
  linear: number;
  pte_lock_wait_p99_us: number;
  ipis_per_op: number;
  preempt_off_max_us: number;
}

export const SCALE_CSV_COLUMNS = ['cpus', 'variant', 'ops_per_sec', 'linear', 'pte_lock_wait_p99_us', 'ipis_per_op', 'preempt_off_max_us'] as const;

export interface ScaleFile {
  schema: typeof RESULT_SCHEMA;
  command: 'scale';
  workload: string;
  rows: ScaleRow[];
  results: RunResult[];
}

/** A hunt campaign's summary (one shard of it, or all). */
export interface HuntFile {
  schema: typeof RESULT_SCHEMA;
  command: 'hunt';
  variant: string;
  workload: string;
  strategy: { kind: string };
  shard: { index: number; count: number } | null;
  seedsRun: number;
  found: boolean;
  violations: { rule: string; location: string; seed?: number; count: number; detail: string }[];
}

/** A file given to `shootdown report`, once read and recognised. */
export type ReportInput =
  | { kind: 'run'; file: string; result: RunResult }
  | { kind: 'compare'; file: string; data: CompareFile }
  | { kind: 'scale'; file: string; data: ScaleFile }
  | { kind: 'hunt'; file: string; data: HuntFile }
  | { kind: 'history'; file: string; data: HistoryFile };
