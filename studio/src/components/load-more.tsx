import type { Paged } from '../api/use-load.js';

/**
 * The "Load more" button under a paged list, shown only while the server has more pages.
 *
 * @example
 * ```tsx
 * <LoadMore list={list} label="Load older events" />
 * ```
 */
export function LoadMore({ list, label = 'Load more' }: { list: Pick<Paged<unknown>, 'hasMore' | 'loading' | 'loadMore'>; label?: string }) {
  if (!list.hasMore) return null;
  return (
    <div className="more">
      <button type="button" className="btn btn-secondary" onClick={list.loadMore} disabled={list.loading}>
        {list.loading ? 'Loading…' : label}
      </button>
    </div>
  );
}
