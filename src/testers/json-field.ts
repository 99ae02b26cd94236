/**
 * The value at a dotted path (`user.id`) of parsed JSON, or undefined. Array indices work as
 * path segments (`value.0.id`).
 *
 * @example
 * ```ts
 * readJsonField({ user: { id: 7 } }, 'user.id'); // 7
 * ```
 */
export function readJsonField(json: unknown, path: string): unknown {
  let current: unknown = json;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
