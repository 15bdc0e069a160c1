// The built-in workloads, by name.

import type { Workload } from './workload.ts';
import { munmapWorkload } from './munmap.ts';
import { exitWorkload } from './exit.ts';
import { madviseWorkload } from './madvise.ts';
import { mixWorkload } from './mix.ts';

export const WORKLOADS: readonly Workload[] = [munmapWorkload, exitWorkload, madviseWorkload, mixWorkload];

export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
