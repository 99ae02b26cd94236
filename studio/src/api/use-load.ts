import { type DependencyList, useCallback, useEffect, useRef, useState } from 'react';
import type { Latchkey } from '../../../src/surfaces/client/index.js';
import { useStudio } from './studio-context.js';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (keeps the current data on screen meanwhile). */
  reload(): void;
  /** Replaces the data, e.g. with the record a write returned. */
  setData(data: T): void;
}

/**
 * Loads data through the client when the dependencies change. A newer load wins over an
 * older one still in flight, so fast filter changes never show stale results.
 */
export function useLoad<T>(load: (lk: Latchkey) => Promise<T>, deps: DependencyList): Loaded<T> {
  const { lk } = useStudio();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load(lk).then(
      (data) => mine === generation.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === generation.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    // `load` is a fresh closure every render; the caller's deps say when it really changed.
  }, [lk, ...deps]);
  useEffect(run, [run]);
  const setData = useCallback((data: T) => setState({ data, error: undefined, loading: false }), []);
  return { ...state, reload: run, setData };
}

/** `{ data, nextCursor }` pages accumulated behind a "Load more" button. */
export interface Paged<T> {
  items: T[];
  error: unknown;
  loading: boolean;
  hasMore: boolean;
  loadMore(): void;
  reload(): void;
}

export function usePaged<T>(load: (lk: Latchkey, cursor: string | undefined) => Promise<{ data: T[]; nextCursor: string | null }>, deps: DependencyList): Paged<T> {
  const { lk } = useStudio();
  const [state, setState] = useState<{ items: T[]; cursor: string | null; error: unknown; loading: boolean }>({ items: [], cursor: null, error: undefined, loading: true });
  const generation = useRef(0);
  const fetchPage = useCallback(
    (cursor: string | undefined, append: boolean) => {
      const mine = ++generation.current;
      setState((s) => ({ ...s, loading: true, ...(append ? {} : { error: undefined }) }));
      load(lk, cursor).then(
        (page) =>
          mine === generation.current &&
          setState((s) => ({ items: append ? [...s.items, ...page.data] : page.data, cursor: page.nextCursor, error: undefined, loading: false })),
        (error: unknown) => mine === generation.current && setState((s) => ({ ...s, items: append ? s.items : [], error, loading: false })),
      );
    },
    // As in useLoad: the caller's deps, not the closure's identity, decide when to reload.
    [lk, ...deps],
  );
  useEffect(() => fetchPage(undefined, false), [fetchPage]);
  return {
    items: state.items,
    error: state.error,
    loading: state.loading,
    hasMore: state.cursor !== null,
    loadMore: () => state.cursor && fetchPage(state.cursor, true),
    reload: () => fetchPage(undefined, false),
  };
}

/** Runs one write at a time and keeps its error for the form to show. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const last = useRef<unknown>(undefined);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    last.current = undefined;
    try {
      return await action();
    } catch (e) {
      last.current = e;
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  /** The error of the latest run, readable right after `await run(…)` (state lags a render). */
  const lastError = useCallback(() => last.current, []);
  return { busy, error, setError, run, lastError };
}
