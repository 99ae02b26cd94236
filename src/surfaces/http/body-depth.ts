import type { FastifyInstance } from 'fastify';
import { MAX_INPUT_DEPTH, nestsDeeperThan } from '../../contracts/input-depth.js';
import { LatchkeyError } from '../../errors.js';

/** Deepest nesting a JSON request body may have (the registry applies the same limit to every surface's input). */
export const MAX_BODY_DEPTH = MAX_INPUT_DEPTH;
export { nestsDeeperThan };

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
