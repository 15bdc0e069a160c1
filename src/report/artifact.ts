// Reading and writing artifacts: a failing case saved by `hunt` or `shrink`,
// replayed by `replay`. An artifact may come from another machine, so it is
// data: size-limited, its config checked as a queued block's is
// (checkRunConfig), and anything else is refused with one line naming it.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BadInput } from '../machine/errors.ts';
import { checkRunConfig } from '../scenario/trust.ts';
import { ARTIFACT_SCHEMA, type Artifact } from '../engine/campaign.ts';
import { FINGERPRINT_PATTERN } from '../engine/fingerprint.ts';
import type { RunConfig } from '../machine/config.ts';
import { writeJsonAtomic } from './json.ts';

/** Far above any artifact a hunt writes (the choices of a run are run-length encoded). */
export const ARTIFACT_BYTES_MAX = 64 * 1024 ** 2;
const DECISIONS_MAX = 8 * 1024 ** 2;
const decisionList = z.array(z.number().int().nonnegative().max(2 ** 53)).max(DECISIONS_MAX);

const ARTIFACT_FILE_SCHEMA = z.strictObject({
  schema: z.literal(ARTIFACT_SCHEMA),
  kind: z.literal('artifact'),
  rule: z.string().max(100),
  step: z.number().int().min(-1),
  detail: z.string().max(10_000),
  decisions: decisionList,
  preemptions: decisionList,
  reschedules: decisionList,
  irqDeferrals: decisionList,
  config: z.unknown(),
  // optional: artifacts written before models had fingerprints still replay
  fingerprint: z.string().regex(FINGERPRINT_PATTERN, 'a model fingerprint is 64 lower-case hex digits').optional(),
});

/** An artifact from anywhere (a file, a block's result): refused with one line naming `where` unless it is one. */
export function checkArtifact(where: string, json: unknown): Artifact {
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (typeof schema === 'number' && schema < ARTIFACT_SCHEMA && (json as { kind?: unknown }).kind === 'artifact') {
    throw new BadInput(`${where}: an artifact of schema ${schema}, from an older shootdown (schema 3 added task preemptions, schema 4 the cost table and model clocks); run hunt again to make one of schema ${ARTIFACT_SCHEMA}`);
  }
  const parsed = ARTIFACT_FILE_SCHEMA.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BadInput(`${where}: not a shootdown artifact (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  const config = checkRunConfig(where, parsed.data.config);
  if (config.mode !== 'deterministic') throw new BadInput(`${where}: config.mode: an artifact replays a deterministic run`);
  return { ...parsed.data, config } as Artifact;
}

export function readArtifact(file: string): Artifact {
  let text: string;
  try {
    if (statSync(file).size > ARTIFACT_BYTES_MAX) throw new BadInput(`${file}: larger than ${ARTIFACT_BYTES_MAX / 1024 ** 2} MiB; not a shootdown artifact`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof BadInput) throw e;
    throw new BadInput(`${file}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BadInput(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return checkArtifact(file, json);
}

export function artifactName(config: RunConfig, rule: string): string {
  return `shootdown-${config.variant}-${config.workload}-${rule}-seed${config.seed}.json`;
}

export function writeArtifact(dir: string, a: Artifact): string {
  const file = join(dir, artifactName(a.config, a.rule));
  writeJsonAtomic(file, a);
  return file;
}
