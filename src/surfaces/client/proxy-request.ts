import type { z } from 'zod';
import type { ProxyMethod, StreamingContract } from '../../contracts/integrations/proxy-contract.js';
import { type LatchkeyProblem, problemOf } from './problem.js';

/** A query value: repeated for an array. */
type QueryValue = string | number | boolean;
/** What `fetch` takes as a body and as headers (spelled this way: the client is built without the DOM library). */
type Body = NonNullable<RequestInit['body']>;
type HeadersLike = ConstructorParameters<typeof Headers>[0];

/** Options of one proxied call (`lk.proxy(integration, connectionId, path, options)`). */
export interface ProxyCallOptions {
  /** `GET` unless given; one of the contract's methods (any case). */
  method?: ProxyMethod | Lowercase<ProxyMethod>;
  /**
   * Headers for the provider. `Authorization` and `X-API-Key` are Latchkey's (the client's
   * key is sent there and the server never forwards them); the connection's credentials are
   * injected server-side. The client's own `headers` option is not sent with proxied calls:
   * the proxy would forward them to the provider.
   */
  headers?: HeadersLike;
  /** Query parameters, appended to any query already in `path`; arrays repeat the name. */
  query?: Record<string, QueryValue | readonly QueryValue[] | undefined>;
  /** Request body, forwarded as is; a `ReadableStream` is streamed. */
  body?: Body | null;
  /** Aborts the call, also while the response body streams. */
  signal?: AbortSignal;
}

/** The parts of one proxied request, before the base URL and the API key. */
export interface ProxyRequestParts {
  method: ProxyMethod;
  /** e.g. `/v1/proxy/github-prod/user-42/repos/acme/app?state=open` */
  url: string;
  headers: Headers;
  body: Body | null;
}

const REQUEST_ID = 'x-request-id';

/** A request id nobody else can know: the one mark of Latchkey's own problems (see `ownProblemOf`). */
function freshRequestId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues(bytes: Uint8Array): Uint8Array } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  c?.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The path below the provider's base URL, checked for what `fetch` would silently rewrite
 * before sending: WHATWG URL parsing resolves `.`/`..` segments (`%2e` included) and reads
 * `\` as `/`, which would send the call to another Latchkey route instead of the provider.
 * The server refuses the rest (encoded slashes, empty segments) itself.
 */
function checkedPath(path: string): { path: string; query: string } {
  const q = path.indexOf('?');
  const pathPart = (q === -1 ? path : path.slice(0, q)).replace(/^\/+/, '');
  const query = q === -1 ? '' : path.slice(q + 1);
  if (path.includes('#')) throw new TypeError('Latchkey.proxy: a fragment (#) is never sent; percent-encode it as %23');
  if (pathPart.includes('\\')) throw new TypeError('Latchkey.proxy: the path may not hold a backslash; percent-encode it as %5C');
  for (const segment of pathPart.split('/')) {
    if (/^(?:\.|%2e){1,2}$/i.test(segment)) throw new TypeError('Latchkey.proxy: the path may not hold "." or ".." segments');
  }
  return { path: pathPart, query };
}

/**
 * Maps a proxied call to its HTTP request, from the streaming contract's declaration: the
 * method must be one it lists, the integration key and connection id must pass its input
 * schema, and they fill its path template (`/v1/proxy/{key}/{id}/{path}`).
 *
 * @throws TypeError for a method, key, id or path the server would refuse or `fetch` would rewrite.
 * @example
 * ```ts
 * toProxyRequest(ProxyRequest, 'github-prod', 'user-42', 'repos/acme/app/issues', { query: { state: 'open' } }).url;
 * // '/v1/proxy/github-prod/user-42/repos/acme/app/issues?state=open'
 * ```
 */
export function toProxyRequest(contract: StreamingContract, integration: string, connectionId: string, path: string, options: ProxyCallOptions = {}): ProxyRequestParts {
  const method = (options.method ?? 'GET').toUpperCase() as ProxyMethod;
  if (!contract.http.methods.includes(method)) throw new TypeError(`${contract.meta.key}: method ${method} is not one of ${contract.http.methods.join(', ')}`);
  const target = checkedPath(path);
  const parsed = (contract.io.input as z.ZodType).safeParse({ key: integration, id: connectionId, path: target.path });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new TypeError(`${contract.meta.key}: ${fields.join('; ')}`);
  }
  // The query in `path` is kept byte for byte (as the proxy forwards it); `query` is appended.
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
  }
  const values: Record<string, string> = { key: encodeURIComponent(integration), id: encodeURIComponent(connectionId), path: target.path };
  const template = target.path === '' ? contract.http.path.replace(/\/\{path\}$/, '') : contract.http.path;
  const filled = template.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? '');
  const qs = [target.query, search.toString()].filter((part) => part !== '').join('&');
  const headers = new Headers(options.headers);
  if (!headers.has(REQUEST_ID)) headers.set(REQUEST_ID, freshRequestId());
  return { method, url: qs ? `${filled}?${qs}` : filled, headers, body: options.body ?? null };
}

/**
 * Latchkey's own refusal of a proxied call, or null when the response is the provider's.
 * The proxy relays provider errors untouched (problem+json ones included), so the content
 * type alone cannot tell. What can: Latchkey writes the request id into its problems
 * (`requestId`) and into the `X-Request-Id` header, and never forwards that header to the
 * provider — a provider cannot echo an id it never saw. `toProxyRequest` sends a fresh
 * random one. The body is read from a clone, so a provider's response stays unread.
 */
export async function ownProblemOf(response: Response, operation: string): Promise<LatchkeyProblem | null> {
  if (response.status < 400) return null;
  const requestId = response.headers.get(REQUEST_ID);
  if (!requestId || !/^application\/problem\+json/i.test(response.headers.get('content-type') ?? '')) return null;
  let body: unknown;
  try {
    body = JSON.parse(await response.clone().text());
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null || (body as { requestId?: unknown }).requestId !== requestId) return null;
  await response.body?.cancel().catch(() => undefined);
  return problemOf(response.status, body, response.headers, operation);
}

/** The client method of each streaming operation, by key (the docs name it on the operation's page). */
const STREAMING_METHODS: ReadonlyMap<string, string> = new Map([['integrations.proxy', 'proxy']]);

/** The client method of a streaming contract (`proxy`), if it has one. */
export const streamingMethodNameOf = (contract: StreamingContract): string | undefined => STREAMING_METHODS.get(contract.meta.key);
