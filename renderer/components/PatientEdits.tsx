import { useTranslation } from 'react-i18next';
import type { PatientEdit } from '../../common/contract.ts';
import { formatDateTime } from '../format.ts';

/** The fields one save changed (rows of one time, applied or not), as one line of the trail. */
function bySave(edits: readonly PatientEdit[]): PatientEdit[][] {
  const out: PatientEdit[][] = [];
  for (const e of edits) {
    const last = out.at(-1);
    if (last && last[0]!.at === e.at && last[0]!.applied === e.applied) last.push(e);
    else out.push([e]);
  }
  return out;
}

/**
 * Every change of the record's patient id and ear, newest first. One made on a workstation while the clinic
 * database was away, written after a later change of that record, is listed at its own time and said not
 * applied (the record has the later values).
 */
export function PatientEdits({ edits }: { edits: readonly PatientEdit[] }) {
  const { t, i18n } = useTranslation();
  if (edits.length === 0) return null;
  const shown = (e: PatientEdit, v: string | null) =>
    v === null ? t('detail.patientEditNone') : e.field === 'ear' ? t(`ear.${v}`) : v;
  const line = (e: PatientEdit) =>
    t(e.field === 'ear' ? 'detail.patientEditEar' : 'detail.patientEditId', {
      from: shown(e, e.from),
      to: shown(e, e.to),
    });
  return (
    <section
      className="audit-trail patient-edits"
      aria-labelledby="patient-edits-title"
      data-testid="patient-edits"
    >
      <h3 id="patient-edits-title">{t('detail.patientEdits')}</h3>
      <ol reversed>
        {bySave(edits)
          .map((save, i) => ({ save, key: `${save[0]!.at}#${i}` }))
          .reverse()
          .map(({ save, key }) => (
            <li key={key} data-applied={save[0]!.applied}>
              <time dateTime={save[0]!.at}>{formatDateTime(save[0]!.at, i18n.language)}</time>
              <span className="audit-what">{save.map(line).join(' · ')}</span>
              {!save[0]!.applied && <span className="audit-note">{t('detail.patientEditNotApplied')}</span>}
            </li>
          ))}
      </ol>
    </section>
  );
}
