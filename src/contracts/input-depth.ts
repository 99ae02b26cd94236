/** Deepest nesting an operation's input may have; no operation needs more than a handful of levels. */
export const MAX_INPUT_DEPTH = 64;

/**
 * Whether a value nests deeper than `max` objects or arrays (the top level is 1).
 * Iterative on purpose: a recursive walk is exactly what a hostile input overflows.
 *
 * @example
 * ```ts
 * nestsDeeperThan({ a: { b: [1] } }, 2); // true (3 levels)
 * ```
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
