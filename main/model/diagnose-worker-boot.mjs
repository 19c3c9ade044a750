// Entry of the model worker thread when running from TypeScript sources: Node 20 does not apply loader
// hooks from `execArgv: ['--import', 'tsx']` to a worker's own .ts entry, so the worker registers tsx
// itself (as bin/eardrum.mjs does) and then imports the real entry.
import { register } from 'tsx/esm/api';

register();
await import('./diagnose-worker.ts');
