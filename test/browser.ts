// Headless Chromium for the report tests. @sparticuz/chromium unpacks its
// browser into the temp folder on first use; two test files doing that at
// once (vitest runs files in parallel) made one spawn a binary the other was
// still writing (ETXTBSY). A lock folder, taken with mkdir, lets one unpack
// and launch at a time; the wait is bounded like every other.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import { chromium as pw, type Browser } from 'playwright-core';

const LOCK = join(tmpdir(), 'shootdown-chromium.lock');
const LOCK_WAIT_MS_MAX = 60_000;
/** A lock older than this was left by a test that died: taken over. */
const LOCK_STALE_MS = 120_000;

async function lock(): Promise<void> {
  for (let waitedMs = 0; ; waitedMs += 50) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      if (waitedMs >= LOCK_WAIT_MS_MAX) throw new Error(`${LOCK}: held for over ${LOCK_WAIT_MS_MAX} ms`);
      if (Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function launchBrowser(): Promise<Browser> {
  await lock();
  try {
    return await pw.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
