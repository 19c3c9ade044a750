import { useCallback, useEffect, useState } from 'react';

export type Route =
  | { view: 'live' }
  | { view: 'board' }
  | { view: 'settings' }
  | { view: 'detail'; id: number }
  /** One patient's photos of one day (local calendar day). */
  | { view: 'visit'; patientId: string; day: string }
  /** The printable report of one exam, or of a visit's ears (one page each). */
  | { view: 'report'; ids: number[] };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `#/board`, `#/detail/42`, `#/visit/P%2012/2026-11-25`, `#/report/4,7`… Bookmarkable and reload-safe. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const [view, a, b] = path.split('/');
  if (view === 'board') return { view: 'board' };
  if (view === 'settings') return { view: 'settings' };
  if (view === 'detail' && a && /^\d+$/.test(a)) return { view: 'detail', id: Number(a) };
  if (view === 'visit' && a && b && DAY.test(b)) {
    try {
      const patientId = decodeURIComponent(a);
      if (patientId) return { view: 'visit', patientId, day: b };
    } catch {
      // a malformed escape: fall through to Live
    }
  }
  if (view === 'report' && a && /^\d+(,\d+){0,7}$/.test(a)) {
    return { view: 'report', ids: a.split(',').map(Number) };
  }
  return { view: 'live' };
}

export function routeHash(route: Route): string {
  switch (route.view) {
    case 'detail':
      return `#/detail/${route.id}`;
    case 'visit':
      return `#/visit/${encodeURIComponent(route.patientId)}/${route.day}`;
    case 'report':
      return `#/report/${route.ids.join(',')}`;
    default:
      return `#/${route.view}`;
  }
}

export function useHashRoute(win: Window = window): [Route, (route: Route) => void] {
  const [route, setRoute] = useState(() => parseRoute(win.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(win.location.hash));
    win.addEventListener('hashchange', onChange);
    return () => win.removeEventListener('hashchange', onChange);
  }, [win]);
  const navigate = useCallback(
    (next: Route) => {
      const hash = routeHash(next);
      if (win.location.hash !== hash) win.location.hash = hash;
      setRoute(next);
    },
    [win],
  );
  return [route, navigate];
}
