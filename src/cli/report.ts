// shootdown report: one HTML page from result files.

import { Command } from 'commander';
import { loadReportInputs, writeHtmlReport } from '../report/html.ts';
import type { Out } from './common.ts';

export function registerReport(program: Command, out: Out): void {
  program
    .command('report')
    .description('one self-contained HTML page from run, compare and scale JSON files')
    .argument('<files...>', 'result files written with --json')
    .requiredOption('--html <file>', 'the page to write')
    .action((files: string[], o: Record<string, unknown>) => {
      const inputs = loadReportInputs(files);
      writeHtmlReport(o.html as string, inputs);
      out(`shootdown report: ${inputs.length} file${inputs.length === 1 ? '' : 's'} -> ${o.html as string}`);
    });

}
