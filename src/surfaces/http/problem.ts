import { type FieldError, LatchkeyError, type LatchkeyErrorCode, type ProblemDocument, statusOf, titleOf } from '../../errors.js';

/** An RFC 9457 problem document as Latchkey sends it. */
export type Problem = ProblemDocument;

/** Problem type URIs resolve to the reference UI's list of codes. */
export const problemType = (code: LatchkeyErrorCode): string => `/docs#problem-${code}`;

/** Fastify's own errors (body parsing, size, media type) mapped to our codes. */
function frameworkCode(error: { statusCode?: number; code?: string }): LatchkeyErrorCode | null {
  switch (error.statusCode) {
    case 400:
      return 'bad_request';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 404:
      return 'not_found';
    case 429:
      return 'rate_limited';
    default:
      return null;
  }
}

const FRAMEWORK_DETAIL: Partial<Record<LatchkeyErrorCode, string>> = {
  bad_request: 'the request body is not valid JSON',
  payload_too_large: 'the request body is larger than the server accepts',
  unsupported_media_type: 'send the request body as application/json',
};

/**
 * Builds the problem for any thrown value. Only `LatchkeyError` messages (written to be
 * safe) reach the client; anything else becomes a generic 500 with no detail or stack.
 */
export function toProblem(error: unknown, instance: string, requestId: string): Problem {
  let code: LatchkeyErrorCode = 'internal';
  let detail = 'the server could not complete the request';
  let errors: FieldError[] | undefined;
  let reason: string | undefined;
  let extensions: Record<string, unknown> = {};
  if (error instanceof LatchkeyError) {
    extensions = error.extensions ?? {};
    code = error.code;
    detail = error.message;
    errors = error.errors;
    reason = error.reason;
  } else if (error && typeof error === 'object') {
    const mapped = frameworkCode(error as { statusCode?: number });
    if (mapped) {
      code = mapped;
      detail = FRAMEWORK_DETAIL[mapped] ?? titleOf(mapped);
      if ((error as { code?: string }).code === 'FST_ERR_CTP_EMPTY_JSON_BODY') detail = 'the request declares a JSON body but sends none';
    }
  }
  return {
    ...extensions,
    type: problemType(code),
    title: titleOf(code),
    status: statusOf(code),
    detail,
    instance,
    code,
    ...(reason ? { reason } : {}),
    requestId,
    ...(errors ? { errors } : {}),
  };
}
