// Worker entry point: one simulated cpu, or a group of them. Thin on purpose; the loops live in src/engine.
import { runCpus } from '../src/engine/cpu-loop.ts';

export default runCpus;
