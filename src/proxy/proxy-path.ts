import { ConnectionId, IntegrationKey } from '../contracts/shared-schemas.js';
import { type FieldError, LatchkeyError } from '../errors.js';

/** The route prefix every proxied request starts with. */
export const PROXY_PREFIX = '/v1/proxy/';

/** What a proxy request URL names: the connection, and the raw path and query to forward. */
export interface ProxyAddress {
  key: string;
  id: string;
  /** Raw (still percent-encoded) path below the base URL: `''` or starting with `/`. Validated. */
  path: string;
  /** Raw query string without the `?` (`''` when none), forwarded byte for byte. */
  query: string;
}

// Printable ASCII only: anything else must arrive percent-encoded (RFC 3986), and a raw
// backslash is refused outright (WHATWG URL parsers read it as a slash).
const PRINTABLE = /^[\x21-\x5b\x5d-\x7e]*$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const ENCODED_SEPARATOR = /%(2f|5c)/i;

// "." or "..", alone or before ";…": Java servers (Tomcat, Jetty, Spring) strip the path
// parameters of a segment before resolving it, so "..;" climbs a level there.
const DOT_SEGMENT = /^\.\.?(?:;|$)/;

/** Decodes every `%XX` to its byte as one character, never failing: enough to spot dots and slashes. */
const decodeBytes = (text: string) => text.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

function refused(message: string, path = 'path'): LatchkeyError {
  return new LatchkeyError('bad_request', `the proxied path is refused: ${message}`, { reason: 'proxy_path_refused', errors: [{ path, message }] });
}

function decodeSegment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw refused(`${what} is not valid percent-encoded UTF-8`);
  }
}

/**
 * Reads a proxy request from the raw request target (`request.raw.url`, never a decoded
 * route parameter): the integration key and connection id, and the path and query to
 * forward. Refuses anything that could move the request off the base URL once joined:
 * `.`/`..` segments (also percent-encoded, or followed by `;…` as Java servers read them),
 * encoded slashes and backslashes, raw backslashes, `%25` escapes that would decode a
 * second time to any of those, empty segments (`//host`, `http://…`), and characters that
 * are not printable ASCII. Throws a 400 `bad_request` (`reason: proxy_path_refused`) or a 422 for
 * a malformed key or id.
 *
 * @example
 * ```ts
 * parseProxyUrl('/v1/proxy/github-prod/user-42/repos/a/b?per_page=5');
 * // { key: 'github-prod', id: 'user-42', path: '/repos/a/b', query: 'per_page=5' }
 * parseProxyUrl('/v1/proxy/github-prod/user-42/%2e%2e/admin'); // throws: a dot segment
 * ```
 */
export function parseProxyUrl(rawUrl: string): ProxyAddress {
  const q = rawUrl.indexOf('?');
  const pathPart = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q + 1);
  if (!pathPart.startsWith(PROXY_PREFIX)) throw refused('the request target must be a path below /v1/proxy/');
  if (!PRINTABLE.test(pathPart)) throw refused('the path may only hold printable ASCII without backslashes; percent-encode anything else');
  if (!PRINTABLE.test(query)) throw refused('the query may only hold printable ASCII without backslashes; percent-encode anything else', 'query');
  if (query.includes('#')) throw refused('a fragment is never sent', 'query');
  if (BAD_ESCAPE.test(pathPart)) throw refused('a "%" must start a percent-escape (%XX)');
  if (BAD_ESCAPE.test(query)) throw refused('a "%" must start a percent-escape (%XX)', 'query');

  const [rawKey = '', rawId = '', ...segments] = pathPart.slice(PROXY_PREFIX.length).split('/');
  const errors: FieldError[] = [];
  const key = IntegrationKey.safeParse(decodeSegment(rawKey, 'the integration key'));
  const id = ConnectionId.safeParse(decodeSegment(rawId, 'the connection id'));
  if (!key.success) errors.push({ path: 'key', message: key.error.issues[0]?.message ?? 'is not an integration key' });
  if (!id.success) errors.push({ path: 'id', message: id.error.issues[0]?.message ?? 'is not a connection id' });
  if (errors.length > 0 || !key.success || !id.success) throw new LatchkeyError('validation_failed', 'the proxy path does not name a connection', { errors });

  segments.forEach((segment, index) => {
    if (segment === '') {
      // Only a trailing slash may leave a segment empty; anywhere else it could start `//host`.
      if (index === segments.length - 1) return;
      throw refused('empty path segments ("//") are not allowed');
    }
    if (ENCODED_SEPARATOR.test(segment)) throw refused('encoded slashes and backslashes (%2F, %5C) are not allowed');
    const decoded = decodeSegment(segment, 'a path segment');
    if (DOT_SEGMENT.test(decoded)) throw refused('dot segments ("." and "..", also percent-encoded or followed by ";…") are not allowed');
    if (decoded.includes('\0')) throw refused('NUL bytes are not allowed');
    // A server (or a proxy in front of it) that decodes once more would see what "%25" hides.
    if (segment.includes('%25')) {
      for (let once = decoded, again = decodeBytes(once); again !== once; once = again, again = decodeBytes(once)) {
        if (DOT_SEGMENT.test(again) || /[/\\]/.test(again)) throw refused('double-encoded dot segments, slashes and backslashes (%252E, %252F, %255C) are not allowed');
      }
    }
  });
  return { key: key.data, id: id.data, path: segments.length > 0 ? `/${segments.join('/')}` : '', query };
}

/** The request target (path and query) and the origin it goes to. */
export interface UpstreamTarget {
  /** Absolute URL, for the guard and the socket options. Never logged: a query may carry an injected credential. */
  url: URL;
  /** The exact request target sent, e.g. `/v1/charges?limit=3`. */
  requestTarget: string;
}

/**
 * Joins a validated proxy address to the provider's base URL and proves the result stays
 * there: same origin, and a path equal to the base path or below it, unchanged by URL
 * normalisation. The query is the base URL's (if any) followed by the caller's, unmodified.
 *
 * @example
 * ```ts
 * upstreamTarget(new URL('https://api.stripe.com/v1'), { key: 's', id: 'c', path: '/charges', query: 'limit=3' }).requestTarget;
 * // '/v1/charges?limit=3'
 * ```
 */
export function upstreamTarget(base: URL, address: ProxyAddress): UpstreamTarget {
  const basePath = base.pathname.replace(/\/+$/, '');
  const path = `${basePath}${address.path}` || '/';
  const query = [base.search.slice(1), address.query].filter((part) => part !== '').join('&');
  const requestTarget = query ? `${path}?${query}` : path;
  const url = new URL(requestTarget, base.origin);
  if (url.origin !== base.origin) throw refused('the request would leave the provider\'s origin');
  if (url.pathname !== path) throw refused('the path would be rewritten by URL normalisation');
  if (basePath !== '' && path !== basePath && !path.startsWith(`${basePath}/`)) throw refused('the request would leave the provider\'s base path');
  return { url, requestTarget };
}

/**
 * Sets one query parameter on a raw query string, replacing any the caller sent under the
 * same name and leaving every other parameter exactly as it was encoded.
 *
 * @example
 * ```ts
 * withQueryParam('q=a%2Fb&api_key=mine', 'api_key', 's3cret'); // 'q=a%2Fb&api_key=s3cret'
 * ```
 */
export function withQueryParam(query: string, name: string, value: string): string {
  const kept = query === '' ? [] : query.split('&').filter((pair) => pair !== '' && queryParamName(pair) !== name);
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return kept.join('&');
}

/** The decoded name of one `name=value` pair of a raw query (form-encoded `+` as space; an undecodable name as it is). */
export function queryParamName(pair: string): string {
  const raw = pair.split('=', 1)[0]!.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
