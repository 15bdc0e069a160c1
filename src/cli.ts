// The shootdown command. Exit codes: 0 clean, 1 a violation or a failed run,
// 2 bad input (one line naming the problem, never a stack trace). Each
// command lives in its own file under cli/.

import { Command, CommanderError } from 'commander';
import { BadInput } from './machine/errors.ts';
import { EXIT_BAD_INPUT, interrupts, type Out } from './cli/common.ts';
import { registerRun } from './cli/run.ts';
import { registerCompare } from './cli/compare.ts';
import { registerScale } from './cli/scale.ts';
import { registerHunt } from './cli/hunt.ts';
import { registerReplay } from './cli/replay.ts';
import { registerShrink } from './cli/shrink.ts';
import { registerReport } from './cli/report.ts';
import { registerList } from './cli/list.ts';
import { registerWorker } from './cli/worker.ts';
import { registerKernelCheck } from './cli/kernel-check.ts';
import { registerHistory } from './cli/history.ts';
import { OutputFailed, STDOUT_PATH } from './report/json.ts';

export function buildProgram(out: Out): Command {
  const program = new Command('shootdown')
    .description('SMP emulator of the Linux unmap and TLB-shootdown paths, 2.6.38 against "mm: mmu_gather rework"')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: () => {} })
    .showHelpAfterError(false);
  for (const register of [registerRun, registerCompare, registerScale, registerHunt, registerReplay, registerShrink, registerReport, registerList, registerWorker, registerKernelCheck, registerHistory]) register(program, out);
  return program;
}

const FILE_FLAGS = ['--json', '--trace', '--csv', '--out', '--html'];

/** `--json -` (or any output file given as -) puts that file on stdout, so the text a command prints goes to stderr instead. */
function fileOnStdout(argv: readonly string[]): boolean {
  return argv.some((a, i) => FILE_FLAGS.some((f) => a === `${f}=${STDOUT_PATH}` || (a === f && argv[i + 1] === STDOUT_PATH)));
}

export async function main(argv: string[]): Promise<number> {
  const text = fileOnStdout(argv) ? process.stderr : process.stdout;
  const program = buildProgram((s) => text.write(s + '\n'));
  interrupts.install();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return interrupts.exitCode() ?? (typeof process.exitCode === 'number' ? process.exitCode : 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      process.stderr.write(`shootdown: ${e.message.replace(/^error: /, '')}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof BadInput) {
      process.stderr.write(`shootdown: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof OutputFailed || (e instanceof Error && e.name === 'QueueFailed')) { // QueueFailed: its module loads Redis's client, only for --queue
      process.stderr.write(`shootdown: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`shootdown: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    return 1;
  } finally {
    interrupts.remove();
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
