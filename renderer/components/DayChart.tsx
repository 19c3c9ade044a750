import { useTranslation } from 'react-i18next';
import type { CountsPerDay, LabelInfo } from '../../common/contract.ts';
import { formatDate, formatShortDay } from '../format.ts';
import { bucketName } from '../labels.ts';

/** Calm, distinguishable colours; normal is green, gates and failures are greys. */
const COLOURS: Record<string, string> = {
  normal: '#3f8f5b',
  aom: '#c0392b',
  com: '#8e44ad',
  effusion: '#d68910',
  earwax: '#8d6e63',
  otitis_externa: '#e67e22',
  tympanosclerosis: '#2e86c1',
  ventilation_tube: '#17a589',
  foreign_body: '#5d6d7e',
  pseudo_membrane: '#af7ac5',
  not_eardrum: '#a6acaf',
  ungradable: '#cacfd2',
  failed: '#7b241c',
  pending: '#e5e8e8',
};
const FALLBACK = ['#1f618d', '#b7950b', '#6c3483', '#117864'];

export function colourFor(key: string, index: number): string {
  return COLOURS[key] ?? FALLBACK[index % FALLBACK.length]!;
}

const HEIGHT = 160;
const BAR_GAP = 4;

/** Stacked bars of results per day by label; a hand-rolled SVG (tiny, CSP-safe, printable). */
export function DayChart({ data, card }: { data: CountsPerDay; card?: readonly LabelInfo[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  if (data.days.length === 0) {
    return <p className="chart-empty">{t('board.chartEmpty')}</p>;
  }
  const max = Math.max(1, ...data.days.map((d) => d.total));
  const barWidth = Math.max(6, Math.min(40, Math.floor(720 / data.days.length) - BAR_GAP));
  const width = data.days.length * (barWidth + BAR_GAP);
  const labelEvery = Math.ceil(data.days.length / 12);
  return (
    <figure className="day-chart">
      <figcaption>{t('board.chart')}</figcaption>
      <div className="chart-scroll">
        <svg
          width={width}
          height={HEIGHT + 20}
          viewBox={`0 0 ${width} ${HEIGHT + 20}`}
          role="img"
          aria-label={t('board.chart')}
        >
          {data.days.map((day, i) => {
            let y = HEIGHT;
            const x = i * (barWidth + BAR_GAP);
            return (
              <g key={day.day} data-day={day.day}>
                <title>
                  {`${formatDate(day.day, lang)}: ${data.keys
                    .filter((k) => (day.counts[k] ?? 0) > 0)
                    .map((k) => `${bucketName(t, lang, k, card)} ${day.counts[k]}`)
                    .join(', ')}`}
                </title>
                {data.keys.map((key, k) => {
                  const count = day.counts[key] ?? 0;
                  if (count === 0) return null;
                  const h = (count / max) * HEIGHT;
                  y -= h;
                  return <rect key={key} x={x} y={y} width={barWidth} height={h} fill={colourFor(key, k)} />;
                })}
                {i % labelEvery === 0 && (
                  <text x={x + barWidth / 2} y={HEIGHT + 14} textAnchor="middle" className="chart-axis">
                    {formatShortDay(day.day, lang)}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <ul className="chart-legend">
        {data.keys.map((key, k) => (
          <li key={key}>
            <span className="swatch" style={{ background: colourFor(key, k) }} aria-hidden="true" />
            {bucketName(t, lang, key, card)}
          </li>
        ))}
      </ul>
    </figure>
  );
}
