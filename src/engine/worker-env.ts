// How worker threads start: TypeScript through tsx, with tsx's on-disk
// transform cache off. The cache opens a file per module in each worker and
// a terminated worker thread never closes it, so every pool leaked about 15
// descriptors per thread until a long soak or campaign ran out of them
// (EMFILE); the cache saves nothing measurable at worker start-up.

export const WORKER_EXEC_ARGV = ['--import', 'tsx'];

export const WORKER_ENV: NodeJS.ProcessEnv = { ...process.env, TSX_DISABLE_CACHE: '1' };
