import { LatchkeyProblem } from '../surfaces/client/index.js';

/**
 * Exit codes by problem class, so scripts can branch without parsing output. Documented
 * in `latchkey --help` (see EXIT_CODES_HELP).
 */
export const EXIT = {
  ok: 0,
  /** Anything unexpected (a bug, a local I/O failure). */
  failure: 1,
  /** Bad usage or input the server refused as invalid: 400, 413, 415, 422. */
  usage: 2,
  /** No or invalid API key (401), or the key lacks the policy (403). */
  auth: 3,
  notFound: 4,
  /** 409 conflict, 412 If-Match mismatch. */
  conflict: 5,
  rateLimited: 6,
  /** 5xx from the server. */
  server: 7,
  /** The server could not be reached. */
  network: 8,
  /** `latchkey proxy`: the provider answered 4xx or 5xx (relayed by Latchkey; its body is on stdout). */
  upstream: 9,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  unexpected failure
  2  usage error or invalid input (400, 413, 415, 422)
  3  authentication or authorization (401, 403)
  4  not found (404)
  5  conflict or stale If-Match (409, 412)
  6  rate limited (429)
  7  server error (5xx)
  8  network error (server unreachable)
  9  latchkey proxy: the provider answered 4xx or 5xx (its body is on stdout)`;

/** A mistake on the command line; exits with 2 and its message (which never holds a secret value). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure that already knows its exit code and message. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function exitCodeOfStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 412) return EXIT.conflict;
  if (status === 429) return EXIT.rateLimited;
  if (status >= 500) return EXIT.server;
  if (status >= 400) return EXIT.usage;
  return EXIT.failure;
}

/** `fetch` rejects with a TypeError ("fetch failed") when the server cannot be reached. */
const isNetworkError = (error: unknown): boolean =>
  error instanceof TypeError && (error.message === 'fetch failed' || (error as { cause?: { code?: string } }).cause?.code !== undefined);

export function exitCodeOf(error: unknown): number {
  if (error instanceof LatchkeyProblem) return exitCodeOfStatus(error.status);
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof CliFailure) return error.exitCode;
  if (isNetworkError(error)) return EXIT.network;
  return EXIT.failure;
}
