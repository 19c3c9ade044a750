import { useTranslation } from 'react-i18next';
import type { ModelCardView } from '../../common/contract.ts';
import { formatNumber } from '../format.ts';
import { labelName } from '../labels.ts';

function humanize(key: string): string {
  const spaced = key.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** Renders any JSON value of the shipped card readably (the card's shape belongs to the model). */
function Value({ value, lang, depth }: { value: unknown; lang: string; depth: number }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === 'number') return <span>{formatNumber(value, lang)}</span>;
  if (typeof value === 'string' || typeof value === 'boolean') return <span>{String(value)}</span>;
  if (depth > 4) return <code>{JSON.stringify(value)}</code>;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null))
      return <span>{value.map(String).join(', ')}</span>;
    return (
      <ul className="card-list">
        {value.map((v, i) => (
          <li key={i}>
            <Value value={v} lang={lang} depth={depth + 1} />
          </li>
        ))}
      </ul>
    );
  }
  return (
    <dl className="card-dl">
      {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
        <div key={k} className="card-entry">
          <dt>{humanize(k)}</dt>
          <dd>
            <Value value={v} lang={lang} depth={depth + 1} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

export function ModelCard({ card }: { card: ModelCardView | null }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  if (!card) return <p className="muted">{t('settings.noModel')}</p>;
  return (
    <div className="model-card" data-testid="model-card">
      <dl className="facts">
        <dt>{t('common.model')}</dt>
        <dd>{card.id}</dd>
        <dt>{t('settings.version')}</dt>
        <dd>{card.version}</dd>
        <dt>{t('settings.backend')}</dt>
        <dd>{card.backend}</dd>
      </dl>
      <h4>{t('settings.modelLabels')}</h4>
      <table className="label-table">
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">{t('board.label')}</th>
            <th scope="col">{t('settings.abnormal')}</th>
          </tr>
        </thead>
        <tbody>
          {card.labels.map((l) => (
            <tr key={l.id}>
              <td>
                <code>{l.id}</code>
              </td>
              <td>{labelName(t, lang, l.id, card.labels)}</td>
              <td>{l.abnormal ? t('common.yes') : t('common.no')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {Object.entries(card.details)
        .filter(([k]) => !['labels', 'id', 'version'].includes(k))
        .map(([k, v]) => (
          <details key={k} className="card-section">
            <summary>{humanize(k)}</summary>
            <Value value={v} lang={lang} depth={0} />
          </details>
        ))}
    </div>
  );
}
