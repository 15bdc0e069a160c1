// The progress bar: nothing before two seconds or off a terminal, a bar on one after.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROGRESS_DELAY_MS, startProgress } from '../src/report/progress.ts';

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
});
