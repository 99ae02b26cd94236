import type { AnyContract } from '../../contracts/define.js';
import { ProxyRequest } from '../../contracts/integrations/proxy-contract.js';
import { type ContractOf, OPERATIONS, type OperationInput, type OperationName, type OperationOutput, contractByKey } from './operations.js';
import { problemOf } from './problem.js';
import { type ProxyCallOptions, ownProblemOf, toProxyRequest } from './proxy-request.js';
import { toHttpRequest } from './request.js';
import type { CallOptions, FetchLike, LatchkeyOptions, LatchkeyResponse, OperationMethod, PageItem, RawCallOptions } from './types.js';

/** One method per operation, typed from its contract. */
export type LatchkeyOperations = { readonly [N in OperationName]: OperationMethod<ContractOf<N>> };

const DEFAULT_URL = 'http://127.0.0.1:8787';

/** `process.env` in Node, nothing in a browser. */
function envOf(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  return value === '' ? undefined : value;
}

const ifMatchHeader = (value: number | string): string => (typeof value === 'number' ? `"${value}"` : value);

/**
 * The typed Latchkey client: one method per operation, generated from the contracts.
 * Methods are the contract names in camelCase (`CreateIntegration` → `createIntegration`);
 * `call` runs any operation by key; `paginate` walks a list. Non-2xx answers throw
 * {@link LatchkeyProblem}. Works wherever `fetch` does (Node 20+, browsers, Deno, Bun).
 *
 * @example
 * ```ts
 * import { Latchkey } from 'latchkey/client';
 *
 * const lk = new Latchkey({ baseUrl: 'http://127.0.0.1:8787', apiKey: process.env.LATCHKEY_API_KEY });
 * const integration = await lk.createIntegration({
 *   key: 'github-prod', provider: 'github', displayName: 'GitHub',
 *   config: { clientId: 'Iv1.abc' }, secrets: { clientSecret: readSecret() },
 * });
 * integration.hasSecrets; // { clientSecret: true } — never the value
 * await lk.updateIntegration({ key: 'github-prod', enabled: false }, { ifMatch: integration.version });
 * for await (const connection of lk.paginate(lk.listConnections, { key: 'github-prod' })) console.log(connection.id);
 * ```
 */
export class Latchkey {
  /** The base URL calls go to, without a trailing slash. */
  readonly baseUrl: string;
  readonly #apiKey: string | null;
  readonly #headers: Record<string, string>;
  readonly #fetch: FetchLike;

  constructor(options: LatchkeyOptions = {}) {
    this.baseUrl = (options.baseUrl ?? envOf('LATCHKEY_URL') ?? DEFAULT_URL).replace(/\/+$/, '');
    this.#apiKey = options.apiKey === undefined ? (envOf('LATCHKEY_API_KEY') ?? null) : options.apiKey;
    this.#headers = { ...options.headers };
    if (!options.fetch && typeof globalThis.fetch !== 'function') throw new TypeError('Latchkey: no fetch available; pass options.fetch');
    // Looked up per call, so a fetch patched after construction (tests, tracing) is used.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    for (const [name, contract] of OPERATIONS) {
      if (name in this) throw new Error(`Latchkey: operation ${contract.meta.key} would shadow client member ${name}`);
      const method = (input?: Record<string, unknown>, opts?: CallOptions & { raw?: boolean }) => this.call(contract, input ?? {}, opts as CallOptions);
      Object.defineProperty(method, 'contract', { value: contract });
      Object.defineProperty(method, 'name', { value: name });
      Object.defineProperty(this, name, { value: method, enumerable: true });
    }
  }

  /**
   * Runs one operation, given its contract (typed) or its key (untyped, for generic tools
   * that walk `ALL_CONTRACTS`, like the CLI and MCP server).
   *
   * @example
   * ```ts
   * await lk.call('integrations.integration.get', { key: 'github-prod' });
   * const { data, etag } = await lk.call(GetIntegration, { key: 'github-prod' }, { raw: true });
   * ```
   */
  call<C extends AnyContract>(contract: C, input: OperationInput<C>, options: RawCallOptions): Promise<LatchkeyResponse<OperationOutput<C>>>;
  call<C extends AnyContract>(contract: C, input: OperationInput<C>, options?: CallOptions): Promise<OperationOutput<C>>;
  call(key: string, input: Record<string, unknown>, options: RawCallOptions): Promise<LatchkeyResponse<unknown>>;
  call(key: string, input?: Record<string, unknown>, options?: CallOptions): Promise<unknown>;
  async call(target: AnyContract | string, input: unknown = {}, options: CallOptions & { raw?: boolean } = {}): Promise<unknown> {
    const contract = typeof target === 'string' ? contractByKey(target) : target;
    if (!contract) throw new TypeError(`Latchkey: unknown operation ${String(target)}`);
    const response = await this.#send(contract, (input ?? {}) as Record<string, unknown>, options);
    return options.raw ? response : response.data;
  }

  /**
   * Walks every item of a list operation, following `nextCursor` page by page (one request
   * per page, on demand). Stop early with `break`. Takes a method (typed items), a
   * contract (typed items) or an operation key (untyped items).
   *
   * @example
   * ```ts
   * for await (const event of lk.paginate(lk.listAuditEvents, { outcome: 'denied', limit: 200 })) {
   *   console.log(event.at, event.action);
   * }
   * ```
   */
  paginate<C extends AnyContract>(
    operation: OperationMethod<C> | C,
    input?: [PageItem<C>] extends [never] ? never : Omit<OperationInput<C>, 'cursor'>,
    options?: CallOptions,
  ): AsyncGenerator<PageItem<C>, void, undefined>;
  paginate(key: string, input?: Record<string, unknown>, options?: CallOptions): AsyncGenerator<unknown, void, undefined>;
  async *paginate(operation: AnyContract | { contract: AnyContract } | string, input: object = {}, options: CallOptions = {}): AsyncGenerator<unknown, void, undefined> {
    const contract = typeof operation === 'string' ? contractByKey(operation) : 'contract' in operation ? operation.contract : operation;
    if (!contract) throw new TypeError(`Latchkey: unknown operation ${String(operation)}`);
    let cursor: string | null | undefined;
    do {
      const page = (await this.call(contract, { ...input, ...(cursor ? { cursor } : {}) }, options)) as { data?: unknown; nextCursor?: unknown };
      if (!Array.isArray(page?.data)) throw new TypeError(`Latchkey: ${contract.meta.key} is not a paginated list`);
      yield* page.data;
      cursor = typeof page.nextCursor === 'string' && page.nextCursor !== cursor ? page.nextCursor : null;
    } while (cursor);
  }

  /**
   * Calls the provider's API through the proxy (`integrations.proxy`, policy
   * `platform.connection.use`): the server injects the connection's credentials, so this
   * process never holds them. Resolves with the raw `fetch` `Response` — the provider's
   * status, headers and body, streamed (read `response.body` as it arrives) — whatever the
   * status: a provider's 404 or 500 is an answer, not an exception. Throws
   * {@link LatchkeyProblem} only when Latchkey itself refused or failed the call (unknown
   * connection, missing policy, disabled integration, unreachable provider …), told apart
   * from provider errors by the request id only Latchkey echoes. Redirects are returned,
   * never followed (`redirect: 'manual'`; in a browser that is an opaque response).
   *
   * @example
   * ```ts
   * const res = await lk.proxy('github-prod', 'user-42', 'repos/acme/app/issues', { query: { state: 'open' } });
   * if (!res.ok) console.log('GitHub answered', res.status);
   * const issues = await res.json();
   *
   * // Upload a file as it is read, without holding it in memory:
   * await lk.proxy('files', 'acct-1', 'upload', { method: 'PUT', body: await openAsBlob('big.bin') });
   * ```
   * @throws TypeError for a method, key, id or path that cannot be sent as given.
   */
  async proxy(integration: string, connectionId: string, path: string, options: ProxyCallOptions = {}): Promise<Response> {
    const request = toProxyRequest(ProxyRequest, integration, connectionId, path, options);
    if (this.#apiKey) request.headers.set('authorization', `Bearer ${this.#apiKey}`);
    // A stream body needs half duplex in Node's fetch (the request is sent as it is read).
    const streamed = typeof ReadableStream !== 'undefined' && request.body instanceof ReadableStream;
    const response = await this.#fetch(`${this.baseUrl}${request.url}`, {
      method: request.method,
      headers: request.headers,
      redirect: 'manual',
      ...(request.body !== null ? { body: request.body } : {}),
      ...(streamed ? ({ duplex: 'half' } as RequestInit) : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const problem = await ownProblemOf(response, ProxyRequest.meta.key);
    if (problem) throw problem;
    return response;
  }

  async #send(contract: AnyContract, input: Record<string, unknown>, options: CallOptions): Promise<LatchkeyResponse<unknown>> {
    const { method, url, body, headers: fieldHeaders } = toHttpRequest(contract, input);
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers, ...fieldHeaders };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.ifMatch !== undefined) headers['if-match'] = ifMatchHeader(options.ifMatch);
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    Object.assign(headers, options.headers);
    const response = await this.#fetch(`${this.baseUrl}${url}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw problemOf(response.status, parsed, response.headers, contract.meta.key);
    return {
      data: parsed,
      status: response.status,
      etag: response.headers.get('etag') ?? undefined,
      requestId: response.headers.get('x-request-id') ?? undefined,
      replayed: response.headers.get('idempotent-replayed') === 'true',
      headers: response.headers,
    };
  }
}

// The methods are defined per operation in the constructor; this gives them their types.
export interface Latchkey extends LatchkeyOperations {}
