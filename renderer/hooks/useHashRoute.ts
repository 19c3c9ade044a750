import { useCallback, useEffect, useState } from 'react';

export type Route =
  { view: 'live' } | { view: 'board' } | { view: 'settings' } | { view: 'detail'; id: number };

/** `#/board`, `#/detail/42`… The hash keeps views bookmarkable and reload-safe, and leaves `?token=` alone. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const [view, id] = path.split('/');
  if (view === 'board') return { view: 'board' };
  if (view === 'settings') return { view: 'settings' };
  if (view === 'detail' && id && /^\d+$/.test(id)) return { view: 'detail', id: Number(id) };
  return { view: 'live' };
}

export function routeHash(route: Route): string {
  return route.view === 'detail' ? `#/detail/${route.id}` : `#/${route.view}`;
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
