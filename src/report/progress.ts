// A progress bar for work that lasts: it appears only after PROGRESS_DELAY_MS
// and only on a terminal. Off a terminal (a campaign logging to a file) a
// plain line every PROGRESS_LINE_MS says how far it got, so short runs in CI
// logs and pipes see nothing extra. It goes to stderr, leaving stdout to the
// results.

import cliProgress from 'cli-progress';

export const PROGRESS_DELAY_MS = 2000;
export const PROGRESS_LINE_MS = 60_000;

export interface Progress {
  /** One more unit done. */
  tick(what?: string): void;
  stop(): void;
}

export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let done = 0;
  let last = '';
  let bar: cliProgress.SingleBar | null = null;
  const t0 = performance.now();
  let lines: ReturnType<typeof setInterval> | undefined;
  const show = (): void => {
    if (!stream.isTTY) {
      lines = setInterval(() => {
        const s = (performance.now() - t0) / 1000;
        stream.write(`${label}: ${done}${total ? `/${total}` : ''} runs in ${Math.round(s)} s, ${(done / s).toFixed(1)}/s${last ? `, last ${last}` : ''}\n`);
      }, PROGRESS_LINE_MS);
      lines.unref();
      return;
    }
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
      clearInterval(lines);
      bar?.stop();
    },
  };
}
