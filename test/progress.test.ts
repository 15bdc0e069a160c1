// The progress bar: nothing before two seconds, a bar on a terminal after;
// off a terminal a plain line a minute, so short work in a pipe prints nothing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROGRESS_DELAY_MS, PROGRESS_LINE_MS, startProgress } from '../src/report/progress.ts';

function fakeStream(isTTY: boolean) {
  let written = '';
  const stream = {
    isTTY,
    columns: 100,
    write(s: string) {
      written += s;
      return true;
    },
    cursorTo() {
      return true;
    },
    clearLine() {
      return true;
    },
    moveCursor() {
      return true;
    },
    on() {
      return stream;
    },
    removeListener() {
      return stream;
    },
  };
  return { stream: stream as unknown as NodeJS.WriteStream, written: () => written };
}

describe('progress bar', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays silent for short work and off a terminal, and draws a bar on a terminal after the delay', () => {
    vi.useFakeTimers();
    const tty = fakeStream(true);
    const quick = startProgress('compare', 2, tty.stream);
    quick.tick('legacy');
    quick.stop(); // done before the delay: nothing drawn
    expect(tty.written()).toBe('');

    const pipe = fakeStream(false);
    const piped = startProgress('compare', 2, pipe.stream);
    vi.advanceTimersByTime(PROGRESS_DELAY_MS + 10);
    piped.tick('legacy');
    piped.stop();
    expect(pipe.written()).toBe('');

    const slow = startProgress('scale', 4, tty.stream);
    slow.tick('legacy on 1 cpus');
    vi.advanceTimersByTime(PROGRESS_DELAY_MS + 10);
    slow.tick('rework on 1 cpus');
    slow.stop();
    expect(tty.written()).toContain('scale');
    expect(tty.written()).toMatch(/2\/4 runs/);
  });

  it('off a terminal, writes one plain line per minute of long work, and none after it stops', () => {
    vi.useFakeTimers();
    const pipe = fakeStream(false);
    const hunt = startProgress('hunt', 10, pipe.stream);
    for (let i = 1; i <= 3; i++) hunt.tick(`seed ${i}`);
    vi.advanceTimersByTime(PROGRESS_DELAY_MS + PROGRESS_LINE_MS - 10);
    expect(pipe.written()).toBe('');
    vi.advanceTimersByTime(20);
    expect(pipe.written()).toMatch(/^hunt: 3\/10 runs in \d+ s, [\d.]+\/s, last seed 3\n$/);
    hunt.stop();
    vi.advanceTimersByTime(5 * PROGRESS_LINE_MS);
    expect(pipe.written().split('\n')).toHaveLength(2);
  });
});
