export { EVENT_CHANNEL, apiMethods } from '../../common/contract.ts';
/** The same idle engine status the UI tests use. */
export { idleStatus as idleStatusForTests } from '../ui/fake-api.ts';
