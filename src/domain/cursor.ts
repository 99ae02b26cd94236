import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.js';
import { fieldError } from '../errors.js';

/**
 * Opaque keyset cursors: the sort key of the last row of a page, base64url-encoded, with
 * the scope it belongs to (the list and its filters). The next page starts strictly after
 * that key, so a page costs the same at any depth; a cursor used with another list or
 * other filters is refused rather than answered with a silently wrong page.
 */
export function encodeCursor(lastKey: string | number, scope?: string): string {
  return Buffer.from(JSON.stringify(scope === undefined ? { after: lastKey } : { after: lastKey, scope })).toString('base64url');
}

/**
 * The key a cursor continues after; a 422 on `cursor` when it is not one, or belongs to
 * another scope. Cursors without a scope (issued before scopes existed) are accepted.
 */
export function decodeCursor<T extends 'string' | 'number'>(cursor: string | undefined, kind: T, scope?: string): (T extends 'string' ? string : number) | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown; scope?: unknown };
    const inScope = parsed?.scope === undefined || parsed.scope === scope;
    if (parsed && typeof parsed.after === kind && inScope) return parsed.after as T extends 'string' ? string : number;
  } catch {
    // fall through to the 422 below
  }
  throw fieldError('cursor', 'is not a cursor returned by this list with these filters');
}

/** Slices a `limit + 1` fetch into a page and the cursor of its last row. */
export function pageFrom<R>(rows: R[], limit: number, keyOf: (row: R) => string | number, scope?: string): { rows: R[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: encodeCursor(keyOf(page[page.length - 1]!), scope) };
}

/**
 * The cursor of one list operation: `after` (decoded from `input.cursor`, checked against
 * this list and the input's filters: everything but `cursor` and `limit`) and `page()`
 * (next cursors carry the same scope).
 *
 * @example
 * ```ts
 * const cursor = listCursor('integrations.integration.list', input, 'string');
 * const rows = await query.where('key', '>', cursor.after ?? '').limit(input.limit + 1).execute();
 * return cursor.page(rows, (r) => r.key);
 * ```
 */
export function listCursor<T extends 'string' | 'number'>(list: string, input: { cursor?: string | undefined; limit: number }, kind: T) {
  const { cursor: _cursor, limit: _limit, ...filters } = input as Record<string, unknown>;
  const scope = createHash('sha256').update(canonicalJson([list, filters])).digest('base64url').slice(0, 16);
  return {
    after: decodeCursor(input.cursor, kind, scope),
    page: <R>(rows: R[], keyOf: (row: R) => string | number) => pageFrom(rows, input.limit, keyOf, scope),
  };
}
