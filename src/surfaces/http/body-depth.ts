import type { FastifyInstance } from 'fastify';
import { LatchkeyError } from '../../errors.js';

/** Deepest nesting a JSON request body may have; no operation needs more than a handful of levels. */
export const MAX_BODY_DEPTH = 64;

/**
 * Whether a parsed JSON value nests deeper than `max` objects or arrays (the top level is 1).
 * Iterative on purpose: a recursive walk is exactly what a hostile body overflows.
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

/**
 * Refuses JSON bodies nested deeper than {@link MAX_BODY_DEPTH} with a 400 problem before
 * validation. Found by the contract fuzzer: a body nested a few thousand levels deep (well
 * inside the size limit) overflowed the stack of recursive code after parsing — zod's
 * checks, `JSON.stringify` in a size check — and came back as a 500.
 */
export function registerBodyDepthLimit(app: FastifyInstance, max = MAX_BODY_DEPTH): void {
  // Callback style: it runs on every request with a body.
  app.addHook('preValidation', (request, _reply, done) => {
    const body = request.body;
    // Parsed JSON only (plain objects and arrays), never a stream or buffer left by another parser.
    const json = body !== null && typeof body === 'object' && (Array.isArray(body) || [Object.prototype, null].includes(Object.getPrototypeOf(body)));
    if (json && nestsDeeperThan(body, max)) {
      return done(new LatchkeyError('bad_request', `the request body nests deeper than ${max} levels`));
    }
    done();
  });
}
