import { useId, type CSSProperties } from 'react';
import { useTranslation } from 'react-i18next';

interface ImageProps {
  /** The photo, or null when the library holds no copy of it. */
  src: string | null;
  /** The heatmap layer (same geometry as the photo, mostly transparent), or null when there is none. */
  overlaySrc: string | null;
  alt: string;
  /** The upright photo's size, when known: its box is reserved at that aspect ratio before it loads. */
  width?: number | null;
  height?: number | null;
  showHeatmap: boolean;
  opacity: number;
}

/**
 * The photo at its own aspect ratio, and over it, only when asked for, the model's heatmap: a separate,
 * mostly transparent layer made in the photo's geometry, so stretching it to the photo's box lines it up
 * with the photo, and wherever the model did not look the eardrum shows in its own colours.
 */
export function HeatmapImage({ src, overlaySrc, alt, width, height, showHeatmap, opacity }: ImageProps) {
  const { t } = useTranslation();
  const known = !!width && !!height;
  const frame: CSSProperties | undefined = known
    ? {
        aspectRatio: `${width} / ${height}`,
        width: `min(100%, calc(var(--photo-max-height) * ${width! / height!}))`,
      }
    : undefined;
  return (
    <div className="photo-stage">
      <div className={known ? 'photo-frame sized' : 'photo-frame'} style={frame} data-testid="photo-frame">
        {src ? (
          <img
            src={src}
            alt={alt}
            className="photo"
            width={width ?? undefined}
            height={height ?? undefined}
            draggable={false}
            data-testid="photo"
          />
        ) : (
          <p className="photo-missing" role="img" aria-label={t('common.noPicture')}>
            {t('common.noPicture')}
          </p>
        )}
        {src && overlaySrc && showHeatmap && (
          <img
            src={overlaySrc}
            alt={t('detail.heatmapAlt')}
            className="heatmap-layer"
            style={{ opacity }}
            draggable={false}
            data-testid="heatmap-overlay"
          />
        )}
      </div>
    </div>
  );
}

interface ControlProps {
  available: boolean;
  show: boolean;
  opacity: number;
  onShow(show: boolean): void;
  onOpacity(opacity: number): void;
}

export function HeatmapControls({ available, show, opacity, onShow, onOpacity }: ControlProps) {
  const { t } = useTranslation();
  const id = useId();
  if (!available) return null;
  return (
    <div className="heatmap-controls">
      <label className="check">
        <input type="checkbox" checked={show} onChange={(e) => onShow(e.target.checked)} />
        {t('live.heatmap')}
      </label>
      <label htmlFor={id} className="range-label">
        {t('live.heatmapOpacity')}
      </label>
      <input
        id={id}
        type="range"
        min={0}
        max={100}
        step={5}
        value={Math.round(opacity * 100)}
        disabled={!show}
        onChange={(e) => onOpacity(Number(e.target.value) / 100)}
      />
    </div>
  );
}
