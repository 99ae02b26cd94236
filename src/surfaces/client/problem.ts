import { ERROR_CODES, type FieldError, type LatchkeyErrorCode, type ProblemDocument, statusOf } from '../../errors.js';

export type { FieldError, LatchkeyErrorCode, ProblemDocument };

const CODE_BY_STATUS = new Map<number, LatchkeyErrorCode>(ERROR_CODES.map((code) => [statusOf(code), code]));

/**
 * A problem answered by the Latchkey API: every non-2xx response becomes one. `code` is a
 * stable string union you can `switch` on; `errors` names the fields a 422 refused.
 *
 * @example
 * ```ts
 * try {
 *   await lk.createIntegration({ key: 'github-prod', provider: 'github', displayName: 'GitHub' });
 * } catch (error) {
 *   if (!(error instanceof LatchkeyProblem)) throw error;
 *   switch (error.code) {
 *     case 'conflict': console.log('already exists'); break;
 *     case 'validation_failed': console.log(error.errors.map((e) => `${e.path}: ${e.message}`)); break;
 *     default: throw error;
 *   }
 * }
 * ```
 */
export class LatchkeyProblem extends Error {
  override readonly name = 'LatchkeyProblem';
  /** HTTP status, e.g. 404. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `not_found`. */
  readonly code: LatchkeyErrorCode;
  /** A finer reason when the server gives one, e.g. `connections_exist` on a blocked delete. */
  readonly reason: string | undefined;
  /** Field errors of a 422 (`[]` otherwise): dotted paths such as `config.clientId`. */
  readonly errors: FieldError[];
  /** The server's request id (`X-Request-Id`), to quote in support requests and find in logs. */
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying, from `Retry-After` (429). */
  readonly retryAfter: number | undefined;
  /** The operation key that failed, e.g. `integrations.integration.get`. */
  readonly operation: string | undefined;
  /** The problem document exactly as received (synthesised when the body was not problem+json). */
  readonly problem: ProblemDocument;

  constructor(problem: ProblemDocument, extra: { retryAfter?: number | undefined; operation?: string | undefined } = {}) {
    super(problem.detail || problem.title);
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
    this.reason = problem.reason;
    this.errors = problem.errors ?? [];
    this.requestId = problem.requestId || undefined;
    this.retryAfter = extra.retryAfter;
    this.operation = extra.operation;
  }
}

const isProblem = (value: unknown): value is ProblemDocument =>
  typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'number' && typeof (value as { code?: unknown }).code === 'string';

/**
 * Builds the problem for a non-2xx response: the body when it is a problem document,
 * otherwise one synthesised from the status (e.g. an HTML 502 from a proxy in between).
 */
export function problemOf(status: number, body: unknown, headers: { get(name: string): string | null }, operation?: string): LatchkeyProblem {
  const requestId = headers.get('x-request-id') ?? '';
  const retry = Number(headers.get('retry-after') ?? Number.NaN);
  const document: ProblemDocument = isProblem(body)
    ? body
    : {
        type: 'about:blank',
        title: `HTTP ${status}`,
        status,
        detail: `the server answered ${status} without a problem document`,
        instance: '',
        code: CODE_BY_STATUS.get(status) ?? (status >= 500 ? 'internal' : 'bad_request'),
        requestId,
      };
  return new LatchkeyProblem(document, { retryAfter: Number.isFinite(retry) ? retry : undefined, operation });
}
