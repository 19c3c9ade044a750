/** Locale-aware formatting through Intl (dates, percentages, durations), cached per language. */
const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateFormat(lang: string, key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `d:${lang}:${key}`;
  let f = cache.get(id) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', options);
    cache.set(id, f);
  }
  return f;
}

function numberFormat(lang: string, key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const id = `n:${lang}:${key}`;
  let f = cache.get(id) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', options);
    cache.set(id, f);
  }
  return f;
}

function toDate(value: string | number | Date): Date | null {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(value: string | null | undefined, lang: string): string {
  if (!value) return '—';
  const d = toDate(value);
  return d ? dateFormat(lang, 'dt', { dateStyle: 'medium', timeStyle: 'short' }).format(d) : value;
}

export function formatDate(value: string, lang: string): string {
  // Plain calendar days (`2026-11-25`) are shown as that day, not shifted by the time zone.
  const d = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00`) : toDate(value);
  return d ? dateFormat(lang, 'd', { dateStyle: 'medium' }).format(d) : value;
}

export function formatShortDay(value: string, lang: string): string {
  const d = new Date(`${value}T12:00:00`);
  return Number.isNaN(d.getTime())
    ? value
    : dateFormat(lang, 'sd', { month: 'numeric', day: 'numeric' }).format(d);
}

export function formatPercent(value: number | null | undefined, lang: string, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return numberFormat(lang, `p${digits}`, {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

export function formatNumber(value: number, lang: string): string {
  return numberFormat(lang, 'n', { maximumFractionDigits: 2 }).format(value);
}

/** A rough human duration (`3 min`, `45 s`) for ETAs. */
export function formatDuration(ms: number, lang: string): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 90) {
    return numberFormat(lang, 'sec', { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(seconds);
  }
  return numberFormat(lang, 'min', { style: 'unit', unit: 'minute', unitDisplay: 'short' }).format(
    Math.round(seconds / 60),
  );
}

/** Today's calendar day in local time, `YYYY-MM-DD`. */
export function localDay(date = new Date()): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** The local calendar day of a moment (visits are a patient's photos of one such day). */
export function dayOf(iso: string): string {
  return localDay(new Date(iso));
}

export function utcOffsetMinutes(date = new Date()): number {
  return -date.getTimezoneOffset();
}
