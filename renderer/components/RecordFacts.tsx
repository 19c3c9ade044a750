import { useTranslation } from 'react-i18next';
import type { DiagnosisView, RecordSummary } from '../../common/contract.ts';
import { formatDateTime } from '../format.ts';

/** Patient, ear, time, model version and file of one record as a definition list. */
export function RecordFacts({
  record,
  diagnosis,
}: {
  record: RecordSummary;
  diagnosis: DiagnosisView | null;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <dl className="facts">
      <dt>{t('common.patient')}</dt>
      <dd data-testid="fact-patient">{record.patientId ?? t('common.noPatient')}</dd>
      <dt>{t('ear.label')}</dt>
      <dd data-testid="fact-ear">{t(`ear.${record.ear}`)}</dd>
      <dt>{t('common.captured')}</dt>
      <dd>
        <time dateTime={record.capturedAt}>{formatDateTime(record.capturedAt, lang)}</time>
      </dd>
      {diagnosis && (
        <>
          <dt>{t('common.model')}</dt>
          <dd>{t('common.modelVersion', { id: diagnosis.modelId, version: diagnosis.modelVersion })}</dd>
        </>
      )}
      <dt>{t('common.file')}</dt>
      <dd className="file-name" title={record.originalPath}>
        {record.fileName}
      </dd>
    </dl>
  );
}
