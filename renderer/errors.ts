import type { TFunction } from 'i18next';
import type { ErrorInfo } from '../common/contract.ts';

/** An engine error in the user's language; the engine's English sentence when there is no translation. */
export function errorText(t: TFunction, error: ErrorInfo | { code: string; message: string }): string {
  if (error.code === 'unauthorized') return t('errors.unauthorized');
  return t(`errors.codes.${error.code}`, { defaultValue: error.message });
}
