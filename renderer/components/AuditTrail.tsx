import { useTranslation } from 'react-i18next';
import type { LabelInfo, Review } from '../../common/contract.ts';
import { formatDateTime } from '../format.ts';
import { labelName } from '../labels.ts';

/** Every review ever made, newest first; the model's own answer is never part of this list. */
export function AuditTrail({ reviews, card }: { reviews: readonly Review[]; card?: readonly LabelInfo[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <section className="audit-trail" aria-labelledby="audit-title" data-testid="audit-trail">
      <h3 id="audit-title">{t('detail.audit')}</h3>
      {reviews.length === 0 ? (
        <p className="muted">{t('detail.auditEmpty')}</p>
      ) : (
        <ol reversed>
          {[...reviews].reverse().map((r) => (
            <li key={r.id} data-review-action={r.action}>
              <time dateTime={r.createdAt}>{formatDateTime(r.createdAt, lang)}</time>
              <span className="audit-what">
                {t(r.action === 'confirm' ? 'detail.auditConfirm' : 'detail.auditOverride', {
                  reviewer: r.reviewer,
                  label: labelName(t, lang, r.label, card),
                })}
              </span>
              {r.note && <q className="audit-note">{r.note}</q>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
