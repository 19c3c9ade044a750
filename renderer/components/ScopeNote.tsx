import { useTranslation } from 'react-i18next';
import type { SettingScope } from '../../common/contract.ts';

/**
 * Whose a group of settings is. Shown on a workstation's own history too: the words hold there, and a room
 * reading them before joining a clinic database knows what it will keep.
 */
export function ScopeNote({ scope }: { scope: SettingScope }) {
  const { t } = useTranslation();
  return (
    <p className={`muted scope-note scope-${scope}`}>
      {t(scope === 'workstation' ? 'settings.scopeWorkstation' : 'settings.scopeClinic')}
    </p>
  );
}
