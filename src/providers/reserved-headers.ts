/**
 * Request headers a credential may never be put in. Each one frames the message, routes
 * it, or describes one connection rather than the message (RFC 9110 §7.6.1, RFC 9112 §6,
 * RFC 9113 §8.2.2): a credential written over `Content-Length`, `Transfer-Encoding` or
 * `Host` would let whoever writes the integration's config smuggle a second request onto
 * a pooled socket, or send the first one somewhere else. `Cookie` belongs to the caller's
 * session and `Expect` changes how the body is sent.
 */
const RESERVED = new Set([
  'connection',
  'content-length',
  'cookie',
  'expect',
  'host',
  'http2-settings',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `Proxy-Authorization`, `Proxy-Connection` and the rest speak to a proxy on the path, never the provider. */
const RESERVED_PREFIX = 'proxy-';

/** Why a reserved header name is refused, for a 422 or a 409. */
export const RESERVED_HEADER_MESSAGE = 'must not name a hop-by-hop, framing or routing header (Host, Content-Length, Transfer-Encoding, Connection, Cookie, Proxy-*, …)';

/**
 * True when `name` (any case, surrounding whitespace ignored) is a request header that a
 * credential must never be injected into.
 *
 * @example
 * ```ts
 * isReservedRequestHeader('X-API-Key');      // false
 * isReservedRequestHeader('Content-Length'); // true
 * isReservedRequestHeader('Proxy-Foo');      // true
 * ```
 */
export function isReservedRequestHeader(name: string): boolean {
  const lower = name.trim().toLowerCase();
  return RESERVED.has(lower) || lower.startsWith(RESERVED_PREFIX);
}
