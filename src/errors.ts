/**
 * The one error type the domain throws. Each code is stable and maps to exactly one
 * HTTP status at the edge (see `statusOf`), so every surface reports the same problem
 * the same way.
 *
 * @example
 * ```ts
 * throw new LatchkeyError('not_found', 'Integration "github-prod" was not found');
 * ```
 */
export type LatchkeyErrorCode =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'rate_limited'
  | 'internal'
  | 'upstream_failed'
  | 'upstream_timeout';

/** One field-level problem: a JSON-pointer-like dotted path and a human message. */
export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem document as the Latchkey API sends it (`application/problem+json`). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: LatchkeyErrorCode;
  reason?: string;
  requestId: string;
  errors?: FieldError[];
  /** Extensions, e.g. `testResult` on a verified update that failed its test. */
  [extension: string]: unknown;
}

const STATUS: Record<LatchkeyErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal: 500,
  upstream_failed: 502,
  upstream_timeout: 504,
};

const TITLE: Record<LatchkeyErrorCode, string> = {
  bad_request: 'Bad request',
  unauthenticated: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  precondition_failed: 'Precondition failed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  validation_failed: 'Validation failed',
  rate_limited: 'Too many requests',
  internal: 'Internal error',
  upstream_failed: 'Upstream failed',
  upstream_timeout: 'Upstream timed out',
};

export class LatchkeyError extends Error {
  override readonly name = 'LatchkeyError';
  readonly code: LatchkeyErrorCode;
  readonly errors: FieldError[] | undefined;
  /** A finer machine-readable reason, e.g. `connections_exist` for a blocked delete. */
  readonly reason: string | undefined;
  /** Extra problem members (RFC 9457 extensions), e.g. the failed `testResult` of a verified update. */
  readonly extensions: Record<string, unknown> | undefined;

  constructor(code: LatchkeyErrorCode, message: string, opts: { errors?: FieldError[]; reason?: string; extensions?: Record<string, unknown> } = {}) {
    super(message);
    this.code = code;
    this.errors = opts.errors;
    this.reason = opts.reason;
    this.extensions = opts.extensions;
  }
}

/** The HTTP status a code maps to. */
export const statusOf = (code: LatchkeyErrorCode): number => STATUS[code];
/** The RFC 9457 `title` of a code. */
export const titleOf = (code: LatchkeyErrorCode): string => TITLE[code];
export const ERROR_CODES = Object.keys(STATUS) as LatchkeyErrorCode[];

/** Shorthand for a 422 with one field error. */
export function fieldError(path: string, message: string): LatchkeyError {
  return new LatchkeyError('validation_failed', `${path}: ${message}`, { errors: [{ path, message }] });
}

export const notFound = (what: string): LatchkeyError => new LatchkeyError('not_found', `${what} was not found`);
