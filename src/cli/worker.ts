// shootdown worker: takes blocks of queue campaigns (hunt --queue) from Redis
// and runs them on local threads until stopped.

import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { BadInput } from '../machine/errors.ts';
import { LOCK_MS_DEFAULT } from '../queue/blocks.ts';
import { interrupts, positiveInt, type Out } from './common.ts';

/** BullMQ renews a lock at half its duration; below this a busy event loop would lose it. */
const LOCK_MS_MIN = 500;

export function registerWorker(program: Command, out: Out): void {
  program
    .command('worker')
    .description('take blocks of queue campaigns (hunt --queue) from Redis and run them on local threads, until stopped')
    .requiredOption('--queue <url>', 'redis://[:password@]host:port/db, or rediss:// for TLS')
    .option('--jobs <n>', 'worker threads (default: every core)')
    .option('--lock-ms <n>', `how long a block of a killed worker waits before another worker takes it (default ${LOCK_MS_DEFAULT})`)
    .action(async (o: Record<string, unknown>) => {
      // loaded here: BullMQ and Redis's client are a fifth of every other command's start-up
      const { parseQueueUrl } = await import('../queue/redis.ts');
      const { runQueueWorker } = await import('../queue/worker.ts');
      const target = parseQueueUrl('--queue', o.queue as string);
      const jobs = o.jobs === undefined ? availableParallelism() : positiveInt('--jobs', o.jobs, 256);
      const lockMs = o.lockMs === undefined ? LOCK_MS_DEFAULT : positiveInt('--lock-ms', o.lockMs, 3_600_000);
      if (lockMs < LOCK_MS_MIN) throw new BadInput(`--lock-ms ${lockMs}: must be at least ${LOCK_MS_MIN} (the lock is renewed at half of it)`);
      await runQueueWorker({ target, jobs, lockMs, signal: interrupts.signal, log: out });
    });
}
