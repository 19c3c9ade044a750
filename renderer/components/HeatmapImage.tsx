import { useId } from 'react';
import { useTranslation } from 'react-i18next';

interface ImageProps {
  src: string;
  overlaySrc: string | null;
  alt: string;
  showHeatmap: boolean;
  opacity: number;
}

/**
 * The photo with the model's heatmap overlay faded in on top. The overlay is drawn on the model's
 * own framing of the picture, so at full opacity the clinician sees exactly what the model saw.
 */
export function HeatmapImage({ src, overlaySrc, alt, showHeatmap, opacity }: ImageProps) {
  const { t } = useTranslation();
  return (
    <div className="heatmap-image">
      <img src={src} alt={alt} className="heatmap-base" draggable={false} />
      {overlaySrc && showHeatmap && (
        <img
          src={overlaySrc}
          alt={t('detail.heatmapAlt')}
          className="heatmap-overlay"
          style={{ opacity }}
          draggable={false}
          data-testid="heatmap-overlay"
        />
      )}
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
