import type { TestCredentials } from './connection-tester.js';
import type { TestResult } from './test-result.js';

export const REDACTED = '[redacted]';

/** Credential fields that are token metadata, not secrets (SPEC section 4). */
const NOT_SECRET = new Set(['expiresAt', 'scopes', 'tokenType']);

/**
 * Every secret value a test could leak: each credential field's string value, plus the
 * `username:password` pair that Basic auth sends (servers echo the header back).
 *
 * @example
 * ```ts
 * collectSecrets({ type: 'basic', fields: { username: 'ann', password: 's3cret' } });
 * // ['ann', 's3cret', 'ann:s3cret']
 * ```
 */
export function collectSecrets(credentials: TestCredentials): string[] {
  const values = Object.entries(credentials.fields)
    .filter(([name, value]) => !NOT_SECRET.has(name) && typeof value === 'string' && value !== '')
    .map(([, value]) => value as string);
  const { username, password } = credentials.fields;
  if (typeof username === 'string' && typeof password === 'string') values.push(`${username}:${password}`);
  return values;
}

/** The spellings a secret takes on the wire and in echoed bodies or headers: raw, URI-, form-, base64- and JSON-encoded, and a multi-line secret's lines. */
export function secretSpellings(secret: string): string[] {
  const buffer = Buffer.from(secret, 'utf8');
  const uri = encodeURIComponent(secret);
  const derived = [
    uri,
    uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ v: secret }).toString().slice(2),
    buffer.toString('base64'),
    buffer.toString('base64').replace(/=+$/, ''),
    buffer.toString('base64url'),
    JSON.stringify(secret).slice(1, -1),
  ];
  // PEM keys and other multi-line secrets: a server may quote a single line of them.
  const lines = secret.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 16);
  return [secret, ...derived.filter((d) => d.length >= 4), ...(lines.length > 1 ? lines : [])];
}

/**
 * A function that replaces every secret (in every spelling above) with `[redacted]`.
 * Longest spellings are replaced first so a short secret never leaves part of a longer one.
 *
 * @example
 * ```ts
 * const scrub = createScrubber(['hunter2']);
 * scrub('bad token hunter2 (aHVudGVyMg==)'); // 'bad token [redacted] ([redacted])'
 * ```
 */
export function createScrubber(secrets: readonly string[]): (text: string) => string {
  const needles = [...new Set(secrets.filter((s) => s !== '').flatMap(secretSpellings))].sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((acc, needle) => (acc.includes(needle) ? acc.split(needle).join(REDACTED) : acc), text);
}

const MAX_MESSAGE = 500;
const MAX_DETAIL_STRING = 1000;

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function scrubValue(value: unknown, scrub: (t: string) => string, depth: number): unknown {
  if (typeof value === 'string') return truncate(scrub(value), MAX_DETAIL_STRING);
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrubValue(v, scrub, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubValue(v, scrub, depth + 1)]));
}

/**
 * The result with every string (message, details at any depth, keys included) scrubbed and
 * then shortened. Scrubbing runs before truncation so a cut can never expose a secret's prefix.
 *
 * @example
 * ```ts
 * return scrubResult(result, createScrubber(collectSecrets(target.credentials)));
 * ```
 */
export function scrubResult(result: TestResult, scrub: (text: string) => string): TestResult {
  return {
    ok: result.ok,
    latencyMs: result.latencyMs,
    checkedAt: result.checkedAt,
    details: scrubValue(result.details, scrub, 0) as Record<string, unknown>,
    error: result.error ? { code: result.error.code, message: truncate(scrub(result.error.message), MAX_MESSAGE) } : null,
  };
}
