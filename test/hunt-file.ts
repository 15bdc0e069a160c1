// A hunt's --json file as the campaign tests read it, and the part of it a
// queue campaign must share exactly with a local campaign over the same seeds.
import { readFileSync } from 'node:fs';

export interface HuntFile {
  fingerprint: string;
  seedsRun: number;
  violations: { rule: string; location: string; seed: number; count: number; detail: string }[];
  errors: unknown[];
  firstFailingSeed: number | null;
  found: boolean;
  coverage: unknown[];
  neverPreempted: string[];
  complete?: boolean;
  campaign?: string;
  artifacts: string[];
}

export function readHunt(file: string): HuntFile {
  return JSON.parse(readFileSync(file, 'utf8')) as HuntFile;
}

/** What must be equal between a queue campaign and a local one. */
export function totals(f: HuntFile): unknown {
  return { seedsRun: f.seedsRun, violations: f.violations, errors: f.errors, firstFailingSeed: f.firstFailingSeed, found: f.found, coverage: f.coverage, neverPreempted: f.neverPreempted };
}
