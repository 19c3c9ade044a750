import { useCallback, useState } from 'react';

export interface HeatmapPreference {
  show: boolean;
  /** 0…1, multiplies the layer's own transparency. */
  opacity: number;
}

/** Off until the clinician asks for it: the photo comes first. */
export const DEFAULT_HEATMAP: HeatmapPreference = { show: false, opacity: 0.7 };
const KEY = 'eardrum.heatmap';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled by the browser's privacy settings
  }
}

export function readHeatmapPreference(store: Storage | null = storage()): HeatmapPreference {
  try {
    const raw = JSON.parse(store?.getItem(KEY) ?? 'null') as Partial<HeatmapPreference> | null;
    return {
      show: typeof raw?.show === 'boolean' ? raw.show : DEFAULT_HEATMAP.show,
      opacity:
        typeof raw?.opacity === 'number' && raw.opacity >= 0 && raw.opacity <= 1
          ? raw.opacity
          : DEFAULT_HEATMAP.opacity,
    };
  } catch {
    return DEFAULT_HEATMAP;
  }
}

/**
 * Whether the heatmap is shown, and how strongly, remembered per user: in this browser profile (the
 * desktop app: this operating-system user), shared by Live, Detail and the report.
 */
export function useHeatmapPreference(): [HeatmapPreference, (patch: Partial<HeatmapPreference>) => void] {
  const [preference, setPreference] = useState(() => readHeatmapPreference());
  const update = useCallback((patch: Partial<HeatmapPreference>) => {
    setPreference((current) => {
      const next = { ...current, ...patch };
      try {
        storage()?.setItem(KEY, JSON.stringify(next));
      } catch {
        // Full or disabled storage: the choice lasts until the page is closed.
      }
      return next;
    });
  }, []);
  return [preference, update];
}
