import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Ear } from '../../common/contract.ts';

interface Props {
  patientId: string | null;
  ear: Ear;
  /** A failure's text, null when written, or `saved_locally` when kept until the clinic database is back. */
  onSave(patientId: string | null, ear: Ear): Promise<string | null | 'saved_locally'>;
}

/** Corrects the patient and ear that were read from the file name (or sets them when unknown). */
export function PatientForm({ patientId, ear, onSave }: Props) {
  const { t } = useTranslation();
  const [patient, setPatient] = useState(patientId ?? '');
  const [side, setSide] = useState<Ear>(ear);
  const [state, setState] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);

  async function save() {
    const failure = await onSave(patient.trim() === '' ? null : patient.trim(), side);
    if (failure === 'saved_locally') setState({ tone: 'info', text: t('detail.patientSavedLocally') });
    else setState(failure ? { tone: 'error', text: failure } : { tone: 'info', text: t('common.saved') });
  }

  return (
    <form
      className="patient-form"
      aria-labelledby="patient-title"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3 id="patient-title">{t('detail.editPatient')}</h3>
      <div className="inline-fields">
        <label>
          {t('detail.patientId')}
          <input type="text" value={patient} maxLength={128} onChange={(e) => setPatient(e.target.value)} />
        </label>
        <label>
          {t('ear.label')}
          <select value={side} onChange={(e) => setSide(e.target.value as Ear)}>
            <option value="left">{t('ear.left')}</option>
            <option value="right">{t('ear.right')}</option>
            <option value="unknown">{t('ear.unknown')}</option>
          </select>
        </label>
      </div>
      {state && (
        <p className={`notice notice-${state.tone}`} role={state.tone === 'error' ? 'alert' : 'status'}>
          {state.text}
        </p>
      )}
      <button type="submit">{t('detail.savePatient')}</button>
    </form>
  );
}
