import { useTranslation } from 'react-i18next';
import type { LabelInfo } from '../../common/contract.ts';
import type { BoardFilter } from '../board-filter.ts';
import { KNOWN_LABELS, labelName } from '../labels.ts';

interface Props {
  filter: BoardFilter;
  onChange(filter: BoardFilter): void;
  card?: readonly LabelInfo[];
}

/**
 * Date range, label, result, the model's certainty, patient, ear, review state and free text, all plain form
 * controls.
 */
export function FilterBar({ filter, onChange, card }: Props) {
  const { t, i18n } = useTranslation();
  const labels = card?.map((l) => l.id) ?? [...KNOWN_LABELS];
  const set = <K extends keyof BoardFilter>(key: K, value: BoardFilter[K]) =>
    onChange({ ...filter, [key]: value });
  return (
    <form
      className="filter-bar"
      role="search"
      aria-label={t('board.filters')}
      onSubmit={(e) => e.preventDefault()}
    >
      <label>
        {t('board.search')}
        <input
          type="search"
          value={filter.text}
          placeholder={t('board.searchPlaceholder')}
          onChange={(e) => set('text', e.target.value)}
        />
      </label>
      <label>
        {t('board.from')}
        <input type="date" value={filter.from} onChange={(e) => set('from', e.target.value)} />
      </label>
      <label>
        {t('board.to')}
        <input type="date" value={filter.to} onChange={(e) => set('to', e.target.value)} />
      </label>
      <label>
        {t('board.label')}
        <select value={filter.label} onChange={(e) => set('label', e.target.value)}>
          <option value="">{t('common.any')}</option>
          {labels.map((id) => (
            <option key={id} value={id}>
              {labelName(t, i18n.language, id, card)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('board.gate')}
        <select
          value={filter.result}
          onChange={(e) => set('result', e.target.value as BoardFilter['result'])}
        >
          <option value="">{t('common.any')}</option>
          {(['eardrum', 'not_eardrum', 'ungradable', 'failed', 'pending'] as const).map((g) => (
            <option key={g} value={g}>
              {t(`board.gateOptions.${g}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('board.decision')}
        <select
          value={filter.decision}
          onChange={(e) => set('decision', e.target.value as BoardFilter['decision'])}
        >
          <option value="">{t('common.any')}</option>
          <option value="confident">{t('board.decisionOptions.confident')}</option>
          <option value="not_sure">{t('board.decisionOptions.not_sure')}</option>
        </select>
      </label>
      <label>
        {t('common.patient')}
        <input type="text" value={filter.patient} onChange={(e) => set('patient', e.target.value)} />
      </label>
      <label>
        {t('ear.label')}
        <select value={filter.ear} onChange={(e) => set('ear', e.target.value as BoardFilter['ear'])}>
          <option value="">{t('common.any')}</option>
          <option value="left">{t('ear.left')}</option>
          <option value="right">{t('ear.right')}</option>
          <option value="unknown">{t('ear.unknown')}</option>
        </select>
      </label>
      <label>
        {t('board.reviewed')}
        <select
          value={filter.reviewed}
          onChange={(e) => set('reviewed', e.target.value as BoardFilter['reviewed'])}
        >
          <option value="">{t('common.any')}</option>
          <option value="yes">{t('common.reviewed')}</option>
          <option value="no">{t('common.notReviewed')}</option>
        </select>
      </label>
    </form>
  );
}
