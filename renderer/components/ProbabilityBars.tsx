import { useTranslation } from 'react-i18next';
import type { LabelInfo } from '../../common/contract.ts';
import { formatPercent } from '../format.ts';
import { labelName } from '../labels.ts';

interface Props {
  probabilities: Record<string, number>;
  top: string | null;
  card?: readonly LabelInfo[];
}

/** One bar per label, most likely first; the model's answer is highlighted. */
export function ProbabilityBars({ probabilities, top, card }: Props) {
  const { t, i18n } = useTranslation();
  const entries = Object.entries(probabilities).sort((a, b) => b[1] - a[1]);
  return (
    <ul className="prob-bars" aria-label={t('live.probabilities')}>
      {entries.map(([id, p]) => {
        const name = labelName(t, i18n.language, id, card);
        const percent = formatPercent(p, i18n.language);
        return (
          <li key={id} className={id === top ? 'prob-row prob-top' : 'prob-row'} data-label={id}>
            <span className="prob-name">{name}</span>
            <span
              className="prob-track"
              role="meter"
              aria-label={name}
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(p * 1000) / 10}
              aria-valuetext={percent}
            >
              <span className="prob-fill" style={{ width: `${Math.max(0, Math.min(1, p)) * 100}%` }} />
            </span>
            <span className="prob-value">{percent}</span>
          </li>
        );
      })}
    </ul>
  );
}
