import { createHmac, randomBytes } from 'node:crypto';

/** The consumer's (integration's) and the token's (connection's) credentials. */
export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  token: string;
  tokenSecret: string;
}

/** One request as it goes on the wire. */
export interface OAuth1Request {
  method: string;
  /** Scheme, host and port the request is sent to; its path and query are not read. */
  origin: URL;
  /** The exact request target sent: raw path and query, e.g. `/1.1/statuses/update.json?include_entities=true`. */
  target: string;
  /**
   * The body, when it is `application/x-www-form-urlencoded` (its parameters are signed,
   * RFC 5849 §3.4.1.3.1); `null` or omitted for any other body.
   */
  formBody?: string | Uint8Array | null;
}

export interface OAuth1Options {
  /** Milliseconds since the epoch (tests pin it); `Date.now` by default. */
  now?: () => number;
  /** A fresh nonce per request; 128 random bits in hex by default. */
  nonce?: () => string;
}

/** The request already carries OAuth protocol parameters (`oauth_*`) in its query or form body. */
export class OAuth1ParameterError extends Error {
  override readonly name = 'OAuth1ParameterError';
}

const HEX = '0123456789ABCDEF';

const isUnreserved = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;

/**
 * RFC 5849 §3.6: UTF-8 octets, every one that is not an RFC 3986 unreserved character
 * (`A-Z a-z 0-9 - . _ ~`) as `%XX` with upper-case hex. Bytes are encoded as they are, so
 * a parameter that decoded to invalid UTF-8 is signed exactly as it travels.
 *
 * @example
 * ```ts
 * percentEncode('Ladies + Gentlemen!'); // 'Ladies%20%2B%20Gentlemen%21'
 * ```
 */
export function percentEncode(value: string | Uint8Array): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const b of bytes) out += isUnreserved(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** `application/x-www-form-urlencoded` decoding to bytes: `+` is a space, `%XX` a byte, a stray `%` itself. */
function formDecode(latin1: string): Buffer {
  const out = Buffer.alloc(latin1.length);
  let n = 0;
  for (let i = 0; i < latin1.length; i++) {
    const c = latin1.charCodeAt(i);
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(latin1.slice(i + 1, i + 3))) {
      out[n++] = parseInt(latin1.slice(i + 1, i + 3), 16);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

/**
 * The name/value pairs of a query string or form body, decoded as a form and re-encoded
 * per RFC 5849 §3.6 (§3.4.1.3.1). A pair without `=` has an empty value; empty pairs
 * (`a&&b`) are skipped.
 *
 * @example
 * ```ts
 * formParameters('a3=2+q&c2'); // [['a3', '2%20q'], ['c2', '']]
 * ```
 */
export function formParameters(encoded: string | Uint8Array): [string, string][] {
  // latin1 maps each byte to one char, so splitting on & and = never cuts a multi-byte character.
  const text = typeof encoded === 'string' ? Buffer.from(encoded, 'utf8').toString('latin1') : Buffer.from(encoded).toString('latin1');
  const pairs: [string, string][] = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    pairs.push([percentEncode(formDecode(name)), percentEncode(formDecode(value))]);
  }
  return pairs;
}

/**
 * The signature base string (RFC 5849 §3.4.1): the upper-case method, the base string URI
 * (scheme and host lower-case, a default port dropped, the raw path, no query) and the
 * normalized parameters (encoded pairs sorted by name, then value, in byte order), each
 * percent-encoded and joined with `&`. `params` are already encoded (see {@link formParameters}).
 *
 * @example
 * ```ts
 * signatureBaseString('GET', new URL('http://photos.example.net'), '/photos', [['size', 'original'], ['file', 'vacation.jpg']]);
 * // 'GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26size%3Doriginal'
 * ```
 */
export function signatureBaseString(method: string, origin: URL, path: string, params: readonly (readonly [string, string])[]): string {
  // WHATWG URL already lower-cases the scheme and host and leaves out a default port.
  const uri = `${origin.protocol}//${origin.host}${path === '' ? '/' : path}`;
  const normalized = [...params]
    .sort(([an, av], [bn, bv]) => (an === bn ? (av < bv ? -1 : av > bv ? 1 : 0) : an < bn ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  return `${percentEncode(method.toUpperCase())}&${percentEncode(uri)}&${percentEncode(normalized)}`;
}

/**
 * HMAC-SHA1 of the base string keyed with the encoded consumer and token secrets joined by
 * `&` (RFC 5849 §3.4.2), in base64.
 *
 * @example
 * ```ts
 * hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00'); // 'MdpQcU8iPSUjWoN/UDMsK2sui9I='
 * ```
 */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  return createHmac('sha1', `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`).update(baseString, 'utf8').digest('base64');
}

/**
 * The `Authorization: OAuth …` header value for one request, signed with HMAC-SHA1 (RFC
 * 5849 §3): `oauth_consumer_key`, `oauth_token`, `oauth_signature_method`, a fresh
 * `oauth_nonce`, `oauth_timestamp`, `oauth_version="1.0"` and `oauth_signature`, over the
 * query of `request.target` and, for a form body, its parameters. Throws
 * {@link OAuth1ParameterError} when the query or body already carries `oauth_*`
 * parameters: each protocol parameter is sent once, in the header (§3.1, §3.5).
 *
 * @example
 * ```ts
 * headers.authorization = oauth1Authorization(
 *   { method: 'GET', origin: new URL('https://api.x.com'), target: '/2/users/me?user.fields=created_at' },
 *   { consumerKey, consumerSecret, token, tokenSecret },
 * );
 * // 'OAuth oauth_consumer_key="…", oauth_nonce="…", oauth_signature="…", oauth_signature_method="HMAC-SHA1", …'
 * ```
 */
export function oauth1Authorization(request: OAuth1Request, credentials: OAuth1Credentials, options: OAuth1Options = {}): string {
  const q = request.target.indexOf('?');
  const path = q === -1 ? request.target : request.target.slice(0, q);
  const params = q === -1 ? [] : formParameters(request.target.slice(q + 1));
  if (request.formBody) params.push(...formParameters(request.formBody));
  if (params.some(([name]) => name.startsWith('oauth_'))) throw new OAuth1ParameterError('the request already carries OAuth protocol parameters (oauth_*) in its query or form body');

  const protocol: [string, string][] = [
    ['oauth_consumer_key', credentials.consumerKey],
    ['oauth_nonce', (options.nonce ?? (() => randomBytes(16).toString('hex')))()],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(Math.floor((options.now ?? Date.now)() / 1000))],
    ['oauth_token', credentials.token],
    ['oauth_version', '1.0'],
  ];
  const encoded = protocol.map(([name, value]) => [name, percentEncode(value)] as const);
  const base = signatureBaseString(request.method, request.origin, path, [...params, ...encoded]);
  const signature = hmacSha1Signature(base, credentials.consumerSecret, credentials.tokenSecret);
  // §3.5.1: every value percent-encoded and quoted, so no header-breaking character survives.
  const fields = [...encoded, ['oauth_signature', percentEncode(signature)] as const].sort(([a], [b]) => (a < b ? -1 : 1));
  return `OAuth ${fields.map(([name, value]) => `${name}="${value}"`).join(', ')}`;
}
