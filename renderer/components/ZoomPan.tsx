import {
  useCallback,
  useRef,
  useState,
  type KeyboardEvent,
  type PointerEvent,
  type ReactNode,
  type WheelEvent,
} from 'react';
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../format.ts';

const MIN = 1;
const MAX = 8;
const STEP = 1.25;
const PAN = 40;

export interface View {
  scale: number;
  x: number;
  y: number;
}

export function clampScale(scale: number): number {
  return Math.min(MAX, Math.max(MIN, scale));
}

/** Zoom (buttons, wheel, +/−) and pan (drag, arrow keys) around any content, keyboard first. */
export function ZoomPan({ children, label }: { children: ReactNode; label: string }) {
  const { t, i18n } = useTranslation();
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });
  const drag = useRef<{ id: number; x: number; y: number } | null>(null);

  const zoom = useCallback((factor: number) => {
    setView((v) => {
      const scale = clampScale(v.scale * factor);
      return scale === 1 ? { scale, x: 0, y: 0 } : { ...v, scale };
    });
  }, []);
  const pan = useCallback((dx: number, dy: number) => {
    setView((v) => (v.scale === 1 ? v : { ...v, x: v.x + dx, y: v.y + dy }));
  }, []);
  const reset = useCallback(() => setView({ scale: 1, x: 0, y: 0 }), []);

  function onKeyDown(e: KeyboardEvent) {
    const actions: Record<string, () => void> = {
      '+': () => zoom(STEP),
      '=': () => zoom(STEP),
      '-': () => zoom(1 / STEP),
      '0': reset,
      ArrowLeft: () => pan(PAN, 0),
      ArrowRight: () => pan(-PAN, 0),
      ArrowUp: () => pan(0, PAN),
      ArrowDown: () => pan(0, -PAN),
    };
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }
  function onWheel(e: WheelEvent) {
    zoom(e.deltaY < 0 ? STEP : 1 / STEP);
  }
  function onPointerDown(e: PointerEvent) {
    drag.current = { id: e.pointerId, x: e.clientX, y: e.clientY };
    e.currentTarget.setPointerCapture?.(e.pointerId);
  }
  function onPointerMove(e: PointerEvent) {
    const d = drag.current;
    if (!d || d.id !== e.pointerId) return;
    pan(e.clientX - d.x, e.clientY - d.y);
    drag.current = { id: d.id, x: e.clientX, y: e.clientY };
  }
  function onPointerUp() {
    drag.current = null;
  }

  return (
    <div className="zoom-pan">
      <div className="zoom-toolbar" role="toolbar" aria-label={label}>
        <button
          type="button"
          onClick={() => zoom(1 / STEP)}
          aria-label={t('detail.zoomOut')}
          disabled={view.scale <= MIN}
        >
          −
        </button>
        <output className="zoom-level" aria-live="polite">
          {t('detail.zoom', { percent: formatPercent(view.scale, i18n.language, 0) })}
        </output>
        <button
          type="button"
          onClick={() => zoom(STEP)}
          aria-label={t('detail.zoomIn')}
          disabled={view.scale >= MAX}
        >
          +
        </button>
        <button type="button" onClick={reset}>
          {t('detail.resetZoom')}
        </button>
      </div>
      <div
        className="zoom-viewport"
        tabIndex={0}
        role="group"
        aria-label={`${label}. ${t('detail.panHint')}`}
        onKeyDown={onKeyDown}
        onWheel={onWheel}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        data-scale={view.scale}
      >
        <div
          className="zoom-content"
          style={{ transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` }}
          data-testid="zoom-content"
        >
          {children}
        </div>
      </div>
    </div>
  );
}
