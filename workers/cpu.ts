// Worker entry point: one simulated cpu. Thin on purpose; the loop lives in src/engine.
import { runCpu } from '../src/engine/cpu-loop.ts';

export default runCpu;
