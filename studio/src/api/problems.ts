import { LatchkeyProblem } from '../../../src/surfaces/client/index.js';

/** Field errors of a problem by path (`config.baseUrl` → message), for the fields to show. */
export type FieldErrorMap = ReadonlyMap<string, string>;

export const NO_ERRORS: FieldErrorMap = new Map();

export function fieldErrorsOf(error: unknown): FieldErrorMap {
  if (!(error instanceof LatchkeyProblem)) return NO_ERRORS;
  const map = new Map<string, string>();
  for (const e of error.errors) if (!map.has(e.path)) map.set(e.path, e.message);
  return map;
}

/** A one-line human explanation of any error (problem, network failure, bug). */
export function messageOf(error: unknown): string {
  if (error instanceof LatchkeyProblem) {
    if (error.status === 403) return 'Your API key’s role does not allow this.';
    if (error.status === 412) return 'Someone else changed this record meanwhile. Reload it and try again.';
    if (error.status === 429) return `Too many requests${error.retryAfter ? `; try again in ${error.retryAfter} s` : ''}.`;
    return error.problem.detail || error.problem.title;
  }
  if (error instanceof TypeError) return 'The server could not be reached. Check that Latchkey is running.';
  return error instanceof Error ? error.message : String(error);
}

/** A short title for a problem box. */
export function titleOf(error: unknown): string {
  return error instanceof LatchkeyProblem ? error.problem.title : 'Something went wrong';
}

export const requestIdOf = (error: unknown): string | undefined => (error instanceof LatchkeyProblem ? error.requestId : undefined);

export const isNotFound = (error: unknown): boolean => error instanceof LatchkeyProblem && error.status === 404;
