import { useState } from 'react';
import { useTranslation } from 'react-i18next';

interface Props {
  /** URL of the thumbnail, or null when the record has none (never requested then). */
  src: string | null;
  size: number;
}

/**
 * A record's thumbnail, or a plain "no picture" tile when the file could not be read: never a black box,
 * and never a request that is known to fail.
 */
export function Thumbnail({ src, size }: Props) {
  const { t } = useTranslation();
  const [broken, setBroken] = useState(false);
  if (!src || broken) {
    return (
      <span
        className="thumb-missing"
        role="img"
        aria-label={t('common.noPicture')}
        title={t('common.noPicture')}
        style={{ width: size, height: size }}
        data-testid="thumb-missing"
      >
        <svg viewBox="0 0 24 24" width={size * 0.5} height={size * 0.5} aria-hidden="true">
          <path
            d="M4 5h16v14H4z M4 15l5-5 4 4 3-3 4 4 M3 3l18 18"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.6"
          />
        </svg>
      </span>
    );
  }
  return <img src={src} alt="" width={size} height={size} loading="lazy" onError={() => setBroken(true)} />;
}
