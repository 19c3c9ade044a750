import type { EngineStatus } from '../../common/contract.ts';
export { EVENT_CHANNEL, apiMethods } from '../../common/contract.ts';

export function idleStatusForTests(): EngineStatus {
  return {
    state: 'running',
    watching: true,
    error: null,
    queued: 0,
    processing: 0,
    done: 0,
    failed: 0,
    duplicates: 0,
    etaMs: null,
    avgProcessMs: null,
  };
}
