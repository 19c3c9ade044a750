import { useTranslation } from 'react-i18next';
import type { DatabaseConnection } from '../../common/contract.ts';

/**
 * The history's database in the status bar: connected; unreachable since a time, with how many results
 * wait on this workstation to be written; or writing those queued results once the server is back.
 * (SQLite is in-process and always reads connected.)
 */
export function DatabaseState({ status }: { status: DatabaseConnection }) {
  const { t, i18n } = useTranslation();
  let text: string;
  let tone: 'ok' | 'lost' | 'catching';
  if (status.state === 'unreachable') {
    const time = status.since
      ? new Date(status.since).toLocaleTimeString(i18n.language, { hour: '2-digit', minute: '2-digit' })
      : '';
    text = `${t('app.database.unreachable', { time })} · ${t('app.database.waiting', { count: status.waiting })}`;
    tone = 'lost';
  } else if (status.state === 'catching_up') {
    text = t('app.database.catchingUp', { count: status.waiting });
    tone = 'catching';
  } else {
    text = t('app.database.connected');
    tone = 'ok';
  }
  return (
    <span className={`database ${tone}`} role="status" data-testid="database-state">
      {text}
    </span>
  );
}
