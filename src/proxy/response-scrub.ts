import type { OutgoingHttpHeaders } from 'node:http';
import { secretSpellings } from '../testers/secret-scrubber.js';
import { queryParamName } from './proxy-path.js';

/** What the proxy put on one upstream request, so that none of it comes back to the caller. */
export interface SentCredentials {
  /** The query parameter carrying the credential, or `null` when it went in a header. */
  queryParam: string | null;
  /** Every secret value sent or held for the request: raw, as injected, and percent-encoded. */
  values: readonly string[];
}

/** Nothing injected (yet): response headers are relayed as they are. */
export const NOTHING_SENT: SentCredentials = { queryParam: null, values: [] };

/** Response headers whose value holds URLs (RFC 9110 §10.2.2, §8.7; RFC 8288; the de-facto `Refresh`). */
const URL_HEADERS = new Set(['location', 'content-location', 'link', 'refresh']);

/**
 * Shorter values are not searched for: a one-letter password would redact every "a" of
 * every header. The query parameter is still removed by name whatever its value's length.
 */
const MIN_REDACTED_LENGTH = 6;

const REDACTED = 'REDACTED';

// A query component inside a header value: from "?" to a fragment, whitespace, or the
// delimiters that end a URL in Link (`<…>`) and Refresh (`url="…"`).
const QUERY_IN_TEXT = /\?([^#\s<>"']*)/g;

/** `text` with every URL query's `name` parameter removed (a query left empty loses its "?"). */
function withoutQueryParam(text: string, name: string): string {
  return text.replace(QUERY_IN_TEXT, (match, query: string) => {
    const pairs = query.split('&');
    const kept = pairs.filter((pair) => pair === '' || queryParamName(pair) !== name);
    if (kept.length === pairs.length) return match;
    const rest = kept.filter((pair) => pair !== '').join('&');
    return rest === '' ? '' : `?${rest}`;
  });
}

/**
 * The forms a secret can take in a header (the connection tester's spellings: raw, URI-,
 * form-, base64- and JSON-encoded), for secrets of at least 6 characters. Longest first,
 * so a value is redacted whole before a part of it is.
 */
export function secretForms(values: Iterable<string>): string[] {
  const forms = new Set<string>();
  // The same token often comes twice (as injected, and as the stored field): spell it once.
  for (const value of new Set(values)) {
    if (value.length < MIN_REDACTED_LENGTH) continue;
    for (const form of secretSpellings(value)) if (form.length >= MIN_REDACTED_LENGTH) forms.add(form);
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

function scrubValue(name: string, value: string, sent: SentCredentials): string {
  let out = value;
  if (sent.queryParam !== null && URL_HEADERS.has(name)) out = withoutQueryParam(out, sent.queryParam);
  for (const secret of sent.values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * Takes every injected credential out of the response headers relayed to the caller: the
 * credential's query parameter is removed from URL-valued headers (`Location`,
 * `Content-Location`, `Link`, `Refresh`: a provider's redirect often repeats the request's
 * query), and any other occurrence of a secret, in any header, is replaced by `REDACTED`.
 * A header whose name holds a secret is dropped. `headers` is not modified.
 *
 * @example
 * ```ts
 * scrubInjectedCredentials({ location: '/items/?limit=5&api_key=s3cret-key' }, { queryParam: 'api_key', values: ['s3cret-key'] });
 * // { location: '/items/?limit=5' }
 * ```
 */
export function scrubInjectedCredentials(headers: OutgoingHttpHeaders, sent: SentCredentials): OutgoingHttpHeaders {
  if (sent.queryParam === null && sent.values.length === 0) return headers;
  const lowered = sent.values.map((v) => v.toLowerCase());
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || lowered.some((secret) => name.includes(secret))) continue;
    if (typeof value === 'number') out[name] = value;
    else if (typeof value === 'string') out[name] = scrubValue(name, value, sent);
    else out[name] = value.map((v) => scrubValue(name, v, sent));
  }
  return out;
}
