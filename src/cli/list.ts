// shootdown list: variants, workloads and rules.

import { Command } from 'commander';
import { listText } from '../report/summary.ts';
import type { Out } from './common.ts';

export function registerList(program: Command, out: Out): void {
  program
    .command('list')
    .description('variants, workloads and oracle rules')
    .action(() => out(listText()));
}
