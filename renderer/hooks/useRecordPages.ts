import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorInfo, RecordFilter, RecordSort, RecordSummary } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';

export const PAGE_SIZE = 100;

export interface RecordPages {
  total: number | null;
  error: ErrorInfo | null;
  /** Changes whenever rows arrive or are replaced. */
  version: number;
  /** The row at `index`, or undefined while its page is loading. */
  row(index: number): RecordSummary | undefined;
  /** Loads the pages covering rows [start, end]. */
  ensure(start: number, end: number): void;
  /** Replaces a row in place after a review or edit (no reload, keeps the scroll position). */
  patch(record: RecordSummary): void;
  /** Fetches again with the same filter (new results arrived); rows stay visible meanwhile. */
  reload(): void;
}

/**
 * Pages of the board loaded on demand as rows scroll into view, so 100,000 records cost a few
 * requests of PAGE_SIZE rows rather than one huge answer. A new filter or sort starts over; a reload
 * keeps the old rows on screen until the fresh first page replaces them.
 */
export function useRecordPages(api: ApiClient, filter: RecordFilter, sort: RecordSort): RecordPages {
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [version, setVersion] = useState(0);
  const pages = useRef(new Map<number, RecordSummary[]>());
  const loading = useRef(new Set<number>());
  const generation = useRef(0);
  const lastKey = useRef<string | null>(null);
  const [reloadCount, setReloadCount] = useState(0);
  const key = JSON.stringify([filter, sort]);

  const load = useCallback(
    async (page: number, gen: number, refresh = false) => {
      if (!refresh && (loading.current.has(page) || pages.current.has(page))) return;
      loading.current.add(page);
      const result = await api.call('records.list', {
        filter,
        sort,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
      });
      if (gen !== generation.current) return;
      loading.current.delete(page);
      if (!result.ok) {
        setError(result.error);
        return;
      }
      setError(null);
      if (refresh) pages.current = new Map();
      pages.current.set(page, result.value.items);
      setTotal(result.value.total);
      setVersion((v) => v + 1);
    },
    // The key captures filter and sort by value; the objects themselves change identity every render.
    [api, key],
  );

  useEffect(() => {
    const gen = ++generation.current;
    loading.current = new Set();
    const refresh = lastKey.current === key;
    lastKey.current = key;
    if (!refresh) {
      pages.current = new Map();
      setTotal(null);
      setVersion((v) => v + 1);
    }
    void load(0, gen, refresh);
  }, [load, key, reloadCount]);

  const row = useCallback(
    (index: number) => pages.current.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE],
    // version forces a new function (and a re-render of rows) when a page arrives
    [version],
  );

  const ensure = useCallback(
    (start: number, end: number) => {
      for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor(end / PAGE_SIZE); p++) {
        void load(p, generation.current);
      }
    },
    [load],
  );

  const patch = useCallback((record: RecordSummary) => {
    for (const items of pages.current.values()) {
      const i = items.findIndex((r) => r.id === record.id);
      if (i >= 0) {
        items[i] = record;
        setVersion((v) => v + 1);
      }
    }
  }, []);

  const reload = useCallback(() => setReloadCount((c) => c + 1), []);

  return { total, error, version, row, ensure, patch, reload };
}
