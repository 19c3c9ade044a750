import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DatabaseDescription, DatabaseStatus } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { errorText } from '../errors.ts';
import { LibraryField, LibraryWhere } from './LibraryField.tsx';

interface Props {
  api: ApiClient;
}

type Message = { tone: 'info' | 'error'; text: string };

/** The history as a person recognises it: this workstation's file, or user@host:port/database. */
function Where({ db }: { db: DatabaseDescription }) {
  const { t } = useTranslation();
  if (db.kind === 'sqlite')
    return (
      <>
        {t('clinicDb.local')} (<code>{db.file}</code>)
      </>
    );
  return (
    <>
      {t('clinicDb.postgres')}{' '}
      <code>
        {db.user}@{db.host}:{db.port}/{db.database}
      </code>
    </>
  );
}

const same = (a: DatabaseDescription, b: DatabaseDescription) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Settings → Clinic database: which history and image library are in use, and the choice for the next start
 * (a PostgreSQL shared by the clinic's rooms with the library folder they share, tested together before
 * they are saved, or this workstation's own file). The password field is cleared once saved and is never
 * shown back: no answer carries it.
 */
export function ClinicDatabase({ api }: Props) {
  const { t } = useTranslation();
  const ids = useId();
  const [status, setStatus] = useState<DatabaseStatus | null>(null);
  const [url, setUrl] = useState('');
  const [password, setPassword] = useState('');
  const [library, setLibrary] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);

  useEffect(() => {
    let cancelled = false;
    void api.call('database.status', {}).then((r) => {
      if (cancelled) return;
      if (r.ok) {
        setStatus(r.value);
        // The saved folder is no secret, and re-typing it to change the password would invite a slip.
        const next = r.value.library.next;
        if (next.shared) setLibrary((typed) => typed || next.dir);
      } else setMessage({ tone: 'error', text: errorText(t, r.error) });
    });
    return () => {
      cancelled = true;
    };
  }, [api, t]);

  // A malformed URL (or one holding the password), or a folder not given in full, are the invalid
  // arguments a person can type here; the engine's sentence says which.
  const failure = (error: { code: string; message: string }) =>
    error.code !== 'invalid_args'
      ? errorText(t, error)
      : /library/.test(error.message)
        ? t('clinicDb.badLibrary')
        : t('clinicDb.badUrl');

  async function run(action: 'test' | 'use' | 'local') {
    setBusy(true);
    setMessage(null);
    const folder = library.trim() === '' ? {} : { library: library.trim() };
    try {
      if (action === 'test') {
        const r = await api.call('database.test', { url, password, ...folder });
        if (!r.ok) return setMessage({ tone: 'error', text: failure(r.error) });
        const { serverVersion, schema, library: checked } = r.value;
        const connected = t(`clinicDb.tested.${schema}`, { version: serverVersion });
        const folderText = checked ? ` ${t(`clinicDb.libraryChecked.${checked.photos}`)}` : '';
        setMessage({ tone: 'info', text: `${connected}${folderText}` });
        return;
      }
      const r = await api.call(
        'database.use',
        action === 'use' ? { kind: 'postgres', url, password, ...folder } : { kind: 'sqlite' },
      );
      if (!r.ok) return setMessage({ tone: 'error', text: failure(r.error) });
      setStatus(r.value);
      setPassword('');
      setMessage({
        tone: 'info',
        text: t(action === 'use' ? 'clinicDb.savedShared' : 'clinicDb.savedLocal'),
      });
    } finally {
      setBusy(false);
    }
  }

  const restartNeeded = status !== null && !same(status.current, status.next);
  const libraryRestart =
    status !== null &&
    status.library.source !== 'command_line' &&
    JSON.stringify(status.library.current) !== JSON.stringify(status.library.next);
  return (
    <div className="clinic-db" data-testid="clinic-db">
      <p className="muted">{t('clinicDb.intro')}</p>
      {status && (
        <dl className="clinic-db-facts">
          <dt>{t('clinicDb.inUse')}</dt>
          <dd data-testid="clinic-db-current">
            <Where db={status.current} />
            {status.source === 'command_line' && (
              <span className="muted"> · {t('clinicDb.fromCommandLine')}</span>
            )}
          </dd>
          <dt>{t('clinicDb.nextStart')}</dt>
          <dd data-testid="clinic-db-next">
            <Where db={status.next} />
            {restartNeeded && <strong> · {t('clinicDb.restart')}</strong>}
          </dd>
          <dt>{t('clinicDb.libraryInUse')}</dt>
          <dd data-testid="clinic-db-library-current">
            <LibraryWhere library={status.library.current} />
            {status.library.source === 'command_line' && (
              <span className="muted"> · {t('clinicDb.libraryFromCommandLine')}</span>
            )}
          </dd>
          <dt>{t('clinicDb.libraryNext')}</dt>
          <dd data-testid="clinic-db-library-next">
            <LibraryWhere library={status.library.next} />
            {libraryRestart && <strong> · {t('clinicDb.restart')}</strong>}
          </dd>
        </dl>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run('test');
        }}
      >
        <label>
          {t('clinicDb.url')}
          <input
            type="text"
            value={url}
            placeholder="postgres://eardrum@db.clinic.lan:5432/eardrum"
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setUrl(e.target.value)}
            aria-describedby={`${ids}-url-help`}
          />
        </label>
        <p id={`${ids}-url-help`} className="muted">
          {t('clinicDb.urlHelp')}
        </p>
        <label>
          {t('clinicDb.password')}
          <input
            type="password"
            value={password}
            autoComplete="new-password"
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={`${ids}-pw-help`}
          />
        </label>
        {status && (
          <p id={`${ids}-pw-help`} className="muted">
            {status.passwordKept === 'keychain'
              ? t('clinicDb.keptKeychain')
              : t('clinicDb.keptFile', { file: status.passwordFile })}
          </p>
        )}
        <LibraryField
          api={api}
          value={library}
          onChange={setLibrary}
          onError={(text) => setMessage({ tone: 'error', text })}
        />
        {message && (
          <p
            className={`notice notice-${message.tone}`}
            role={message.tone === 'error' ? 'alert' : 'status'}
            data-testid="clinic-db-message"
          >
            {message.text}
          </p>
        )}
        <div className="inline-fields">
          <button type="submit" disabled={busy || url.trim() === ''}>
            {t('clinicDb.test')}
          </button>
          <button
            type="button"
            className="primary"
            disabled={busy || url.trim() === ''}
            onClick={() => void run('use')}
          >
            {t('clinicDb.use')}
          </button>
          {status?.next.kind === 'postgres' && (
            <button type="button" disabled={busy} onClick={() => void run('local')}>
              {t('clinicDb.backToLocal')}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
