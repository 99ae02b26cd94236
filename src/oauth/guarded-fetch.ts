import type { OutboundGuard } from '../net/outbound-guard.js';
import { sendGuardedRequest } from '../testers/http-exchange.js';

/** Token responses are small; anything bigger is not a token response. */
const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;

/**
 * A `fetch` for oauth4webapi's `customFetch` that goes through the outbound guard (so a
 * token URL cannot aim Latchkey at a private or metadata address), never follows
 * redirects, and gives up after `timeoutMs`.
 *
 * @example
 * ```ts
 * await oauth.refreshTokenGrantRequest(as, client, auth, rt, { [oauth.customFetch]: guardedFetch(guard, 10_000) });
 * ```
 */
export function guardedFetch(guard: OutboundGuard, timeoutMs: number) {
  return async (url: string, options: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal }): Promise<Response> => {
    const signal = options.signal ?? AbortSignal.timeout(timeoutMs);
    const body = options.body === undefined || options.body === null ? undefined : options.body instanceof URLSearchParams ? options.body.toString() : String(options.body);
    const res = await sendGuardedRequest({
      method: options.method,
      url: new URL(url),
      headers: { ...options.headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      guard,
      signal,
      timeoutMs,
      maxBodyBytes: MAX_TOKEN_RESPONSE_BYTES,
      ...(body !== undefined ? { body } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    // A status without a body (204/304) may not be given one when building a Response.
    const nullBody = res.status === 204 || res.status === 304 || (res.status >= 100 && res.status < 200);
    return new Response(nullBody ? null : new Uint8Array(res.body), { status: res.status, headers });
  };
}
