import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { LibraryDescription } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { errorText } from '../errors.ts';

/** A library as a person recognises it: the shared folder, or this workstation's own. */
export function LibraryWhere({ library }: { library: LibraryDescription }) {
  const { t } = useTranslation();
  return (
    <>
      {t(library.shared ? 'clinicDb.sharedLibrary' : 'clinicDb.ownLibrary')} (<code>{library.dir}</code>)
    </>
  );
}

interface Props {
  api: ApiClient;
  value: string;
  onChange: (dir: string) => void;
  onError: (text: string) => void;
}

/**
 * The shared library folder saved with the clinic database. The desktop app offers its folder picker
 * (through the contract's `dialog.chooseLibraryDir`); a browser cannot name a folder of the workstation's
 * disk, so in serve mode the path is typed, in full.
 */
export function LibraryField({ api, value, onChange, onError }: Props) {
  const { t } = useTranslation();
  const id = useId();

  async function choose() {
    const r = await api.call('dialog.chooseLibraryDir', {});
    if (r.ok && r.value.path) onChange(r.value.path);
    else if (!r.ok) onError(errorText(t, r.error));
  }

  return (
    <>
      <div className="inline-fields">
        <label className="grow">
          {t('clinicDb.library')}
          <input
            type="text"
            value={value}
            placeholder="/mnt/clinic/eardrum-library"
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => onChange(e.target.value)}
            aria-describedby={`${id}-help`}
          />
        </label>
        {api.transport === 'electron' && (
          <button type="button" onClick={() => void choose()}>
            {t('clinicDb.chooseLibrary')}
          </button>
        )}
      </div>
      <p id={`${id}-help`} className="muted">
        {t('clinicDb.libraryHelp')}
      </p>
    </>
  );
}
