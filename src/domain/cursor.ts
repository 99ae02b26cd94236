import { fieldError } from '../errors.js';

/**
 * Opaque keyset cursors: the sort key of the last row of a page, base64url-encoded.
 * The next page starts strictly after it, so a page costs the same at any depth.
 */
export function encodeCursor(lastKey: string | number): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

export function decodeCursor<T extends 'string' | 'number'>(cursor: string | undefined, kind: T): (T extends 'string' ? string : number) | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (parsed && typeof parsed.after === kind) return parsed.after as T extends 'string' ? string : number;
  } catch {
    // fall through to the 422 below
  }
  throw fieldError('cursor', 'is not a cursor returned by this list');
}

/** Slices a `limit + 1` fetch into a page and the cursor of its last row. */
export function pageFrom<R>(rows: R[], limit: number, keyOf: (row: R) => string | number): { rows: R[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: encodeCursor(keyOf(page[page.length - 1]!)) };
}
