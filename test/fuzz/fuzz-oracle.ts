/** What every fuzzed response must satisfy, whatever was sent. */

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export type FindingKind = 'server_error' | 'not_problem_json' | 'state_changed' | 'no_response' | 'prototype_polluted' | 'server_down';

const PROBLEM_MEDIA_TYPE = /^application\/problem\+json(\s*;|$)/;
const STACK_TRACE = /\n\s+at |\.ts:\d+:\d+|node_modules\//;

/**
 * Checks one response: never a 5xx, and every 4xx an RFC 9457 problem — media type
 * `application/problem+json`, a JSON object with `type`, `title`, `status`, `code`
 * (and `detail`, `instance`), `status` equal to the HTTP status, and no stack trace.
 * Returns what is wrong (empty when nothing is).
 */
export function checkResponse(res: WireResponse): Array<{ kind: FindingKind; message: string }> {
  const problems: Array<{ kind: FindingKind; message: string }> = [];
  if (res.status >= 500) problems.push({ kind: 'server_error', message: `HTTP ${res.status}` });
  if (res.status < 400) return problems;
  const contentType = String(res.headers['content-type'] ?? '');
  if (!PROBLEM_MEDIA_TYPE.test(contentType)) problems.push({ kind: 'not_problem_json', message: `content-type "${contentType}" on HTTP ${res.status}` });
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    problems.push({ kind: 'not_problem_json', message: `body is not JSON on HTTP ${res.status}` });
    return problems;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    problems.push({ kind: 'not_problem_json', message: 'body is not a JSON object' });
    return problems;
  }
  const problem = body as Record<string, unknown>;
  for (const field of ['type', 'title', 'code', 'detail', 'instance'] as const) {
    if (typeof problem[field] !== 'string' || problem[field] === '') problems.push({ kind: 'not_problem_json', message: `problem member "${field}" missing or not a string` });
  }
  if (problem.status !== res.status) problems.push({ kind: 'not_problem_json', message: `problem status ${String(problem.status)} ≠ HTTP ${res.status}` });
  if ('stack' in problem || STACK_TRACE.test(res.text)) problems.push({ kind: 'not_problem_json', message: 'problem carries a stack trace' });
  return problems;
}
