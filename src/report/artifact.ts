// Reading and writing artifacts: a failing case saved by `hunt` or `shrink`,
// replayed by `replay`. A file that is not one is refused with one line
// naming it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BadInput } from '../machine/errors.ts';
import { findVariant } from '../gather/variants.ts';
import { findWorkload } from '../workloads/index.ts';
import { ARTIFACT_SCHEMA, type Artifact } from '../engine/campaign.ts';
import type { RunConfig } from '../machine/config.ts';
import { writeJsonAtomic } from './json.ts';

const ArtifactSchema = z.object({
  schema: z.literal(ARTIFACT_SCHEMA),
  kind: z.literal('artifact'),
  rule: z.string(),
  step: z.number(),
  detail: z.string(),
  decisions: z.array(z.number().int().nonnegative()),
  preemptions: z.array(z.number().int().nonnegative()),
  reschedules: z.array(z.number().int().nonnegative()),
  irqDeferrals: z.array(z.number().int().nonnegative()),
  config: z.looseObject({
    variant: z.string(),
    workload: z.string(),
    mode: z.literal('deterministic'),
    seed: z.number().int().nonnegative(),
    cpus: z.number().int().positive(),
    pages: z.number().int().positive(),
  }),
});

export function readArtifact(file: string): Artifact {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BadInput(`${file}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BadInput(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (typeof schema === 'number' && schema < ARTIFACT_SCHEMA && (json as { kind?: unknown }).kind === 'artifact') {
    throw new BadInput(`${file}: an artifact of schema ${schema}, from before task preemptions were recorded; run hunt again to make one of schema ${ARTIFACT_SCHEMA}`);
  }
  const parsed = ArtifactSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BadInput(`${file}: not a shootdown artifact (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  const a = parsed.data as unknown as Artifact;
  if (!findVariant(a.config.variant)) throw new BadInput(`${file}: config.variant ${JSON.stringify(a.config.variant)} is unknown`);
  if (!findWorkload(a.config.workload)) throw new BadInput(`${file}: config.workload ${JSON.stringify(a.config.workload)} is unknown`);
  return a;
}

export function artifactName(config: RunConfig, rule: string): string {
  return `shootdown-${config.variant}-${config.workload}-${rule}-seed${config.seed}.json`;
}

export function writeArtifact(dir: string, a: Artifact): string {
  const file = join(dir, artifactName(a.config, a.rule));
  writeJsonAtomic(file, a);
  return file;
}
