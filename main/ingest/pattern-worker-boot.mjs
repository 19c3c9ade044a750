// Entry of the file-name pattern worker when running from TypeScript sources (see
// main/model/diagnose-worker-boot.mjs for why the worker registers tsx itself).
import { register } from 'tsx/esm/api';

register();
await import('./pattern-worker.ts');
