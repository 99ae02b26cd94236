import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { NOTHING_SENT, type SentCredentials, scrubInjectedCredentials } from './response-scrub.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and their older relatives: they describe one connection, never the message. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Request headers that never reach the provider: the caller's own Latchkey credentials
 * (whatever the provider's injection, they are Latchkey's, not the provider's), cookies for
 * Latchkey's origin, the host (set from the base URL), what describes the caller's network
 * path, and what the proxy recomputes itself (length, `Expect`).
 */
const REQUEST_DROP = new Set(['host', 'authorization', 'x-api-key', 'cookie', 'forwarded', 'x-real-ip', 'via', 'expect', 'content-length', 'x-request-id']);

/**
 * Response headers that never reach the caller: cookies the provider sets (they would land
 * on Latchkey's origin), the provider's authentication challenge (ambiguous beside
 * Latchkey's own), and headers Latchkey sets for its own origin (security headers, HSTS,
 * alternative services, the request id).
 */
const RESPONSE_DROP = new Set([
  'set-cookie',
  'set-cookie2',
  'www-authenticate',
  'strict-transport-security',
  'alt-svc',
  'x-request-id',
  'content-security-policy',
  'content-security-policy-report-only',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'cross-origin-resource-policy',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'permissions-policy',
  'report-to',
  'nel',
]);

/** Header names a `Connection` header lists: hop-by-hop for this message too. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  if (!value) return new Set();
  return new Set(value.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
}

const droppedFromRequest = (name: string, listed: Set<string>) => HOP_BY_HOP.has(name) || REQUEST_DROP.has(name) || name.startsWith('x-forwarded-') || listed.has(name);

/**
 * The caller's headers as forwarded to the provider: everything except hop-by-hop headers
 * (and those `Connection` names), `Host`, `Cookie`, the caller's `Authorization` and
 * `X-API-Key`, `X-Forwarded-*`/`Forwarded`/`Via`/`X-Real-IP`, `Expect`, `Content-Length`
 * and `X-Request-Id`. The injected credentials are added afterwards and win.
 *
 * @example
 * ```ts
 * forwardedRequestHeaders({ authorization: 'Bearer lk_…', accept: 'application/json', cookie: 'a=b' });
 * // { accept: 'application/json' }
 * ```
 */
export function forwardedRequestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || droppedFromRequest(name, listed)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The provider's response headers as returned to the caller: everything except hop-by-hop
 * headers (and those `Connection` names), `Set-Cookie`, `WWW-Authenticate` and the headers
 * Latchkey sets on its own responses (security headers, HSTS, `Alt-Svc`, `X-Request-Id`);
 * and never a credential the proxy injected (`sent`): see {@link scrubInjectedCredentials}.
 *
 * @example
 * ```ts
 * returnedResponseHeaders({ 'content-type': 'application/json', 'set-cookie': ['s=1'], connection: 'close' });
 * // { 'content-type': 'application/json' }
 * ```
 */
export function returnedResponseHeaders(headers: IncomingHttpHeaders, sent: SentCredentials = NOTHING_SENT): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || RESPONSE_DROP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return scrubInjectedCredentials(out, sent);
}
