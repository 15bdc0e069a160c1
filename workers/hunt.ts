// Worker entry point for campaigns: one seed per task. Thin on purpose; the work lives in src/engine.
import { huntSeed } from '../src/engine/campaign.ts';

export default huntSeed;
