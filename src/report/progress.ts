// A progress bar for work that lasts: it appears only after PROGRESS_DELAY_MS
// and only on a terminal, so CI logs and pipes see nothing extra. It goes to
// stderr, leaving stdout to the results.

import cliProgress from 'cli-progress';

export const PROGRESS_DELAY_MS = 2000;

export interface Progress {
  /** One more unit done. */
  tick(what?: string): void;
  stop(): void;
}

export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let done = 0;
  let last = '';
  let bar: cliProgress.SingleBar | null = null;
  const show = (): void => {
    if (!stream.isTTY) return;
    bar = new cliProgress.SingleBar(
      { stream, format: `${label} [{bar}] {value}/{total} runs, {duration_formatted} {what}`, hideCursor: true, clearOnComplete: true, etaBuffer: 4 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, done, { what: last });
  };
  const timer = setTimeout(show, PROGRESS_DELAY_MS);
  timer.unref();
  return {
    tick(what = ''): void {
      done++;
      last = what;
      bar?.update(done, { what });
    },
    stop(): void {
      clearTimeout(timer);
      bar?.stop();
    },
  };
}
