// The built-in workloads, by name.

import type { RunConfig } from '../machine/config.ts';
import type { Workload } from './workload.ts';
import { munmapWorkload } from './munmap.ts';
import { exitWorkload } from './exit.ts';
import { madviseWorkload } from './madvise.ts';
import { mixWorkload } from './mix.ts';
import { truncateWorkload } from './truncate.ts';
import { scenarioWorkload } from './program.ts';
import { tlbFlush1Workload, tlbFlush2Workload, tlbFlush3Workload, pageFault1Workload, pageFault2Workload, pageFault3Workload, mmap1Workload, mmap2Workload } from './willitscale.ts';
import { execWorkload } from './exec.ts';
import { pressureWorkload } from './pressure.ts';
import { writebackWorkload } from './writeback.ts';

export const WORKLOADS: readonly Workload[] = [munmapWorkload, exitWorkload, madviseWorkload, mixWorkload, truncateWorkload,
  tlbFlush1Workload, tlbFlush2Workload, tlbFlush3Workload, pageFault1Workload, pageFault2Workload, pageFault3Workload, mmap1Workload, mmap2Workload,
  execWorkload,
  pressureWorkload,
  writebackWorkload,
];

/** A built-in workload by name, or `scenario`, the workload of scenario files (it runs only with one). */
export function findWorkload(name: string): Workload | undefined {
  return name === scenarioWorkload.name ? scenarioWorkload : WORKLOADS.find((w) => w.name === name);
}

/** The run's tasks have a setup: the workload declares one, or a task of the scenario file has `setup:`. */
export function declaresSetup(config: RunConfig): boolean {
  if (!findWorkload(config.workload)?.setup) return false;
  return config.scenario === null || config.scenario.tasks.some((t) => t.setup !== undefined);
}
