import type { AnyContract } from '../../contracts/define.js';
import type { OperationInput, OperationOutput } from './operations.js';

/** A `fetch` function: the global one by default, or your own (for proxies, tracing, tests). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** How to reach a Latchkey server. */
export interface LatchkeyOptions {
  /**
   * Base URL of the server, e.g. `https://latchkey.internal`. Defaults to `LATCHKEY_URL`,
   * then `http://127.0.0.1:8787`. `''` calls the page's own origin (Studio in a browser).
   */
  baseUrl?: string;
  /** API key, sent as `Authorization: Bearer …`. Defaults to `LATCHKEY_API_KEY`; `null` sends none. */
  apiKey?: string | null;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
  /** The `fetch` to use; defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
}

/** Per-call options, the last argument of every method. */
export interface CallOptions {
  /**
   * `If-Match` for writes: a record `version` (`3` → `"3"`), an ETag as returned
   * (`'"3"'`) or `'*'`. A stale value answers 412 `precondition_failed`.
   */
  ifMatch?: number | string;
  /** `Idempotency-Key` for POST operations: a retry with the same key replays the first response. */
  idempotencyKey?: string;
  /** Aborts the call, e.g. `AbortSignal.timeout(5000)`. */
  signal?: AbortSignal;
  /** Extra headers for this call only (e.g. `x-request-id`). */
  headers?: Record<string, string>;
}

/** Per-call options asking for the whole response instead of the data alone. */
export interface RawCallOptions extends CallOptions {
  raw: true;
}

/**
 * A response with its metadata, returned when a call passes `{ raw: true }`.
 *
 * @example
 * ```ts
 * const { data, etag } = await lk.getIntegration({ key: 'github-prod' }, { raw: true });
 * await lk.updateIntegration({ key: 'github-prod', enabled: false }, { ifMatch: etag });
 * ```
 */
export interface LatchkeyResponse<T> {
  data: T;
  /** HTTP status (200, 201 …). */
  status: number;
  /** The `ETag` of the record (`"3"`), when the operation returns one. */
  etag: string | undefined;
  /** The server's `X-Request-Id`. */
  requestId: string | undefined;
  /** True when an `Idempotency-Key` replayed an earlier response. */
  replayed: boolean;
  headers: Headers;
}

type Args<C extends AnyContract, O> = {} extends OperationInput<C>
  ? [input?: OperationInput<C>, options?: O]
  : [input: OperationInput<C>, options?: O];
type RawArgs<C extends AnyContract> = {} extends OperationInput<C>
  ? [input: OperationInput<C> | undefined, options: RawCallOptions]
  : [input: OperationInput<C>, options: RawCallOptions];

/**
 * One operation as a client method: `(input, options)` → the output, or the whole
 * {@link LatchkeyResponse} with `{ raw: true }`. `contract` is the contract it calls.
 */
export interface OperationMethod<C extends AnyContract> {
  (...args: RawArgs<C>): Promise<LatchkeyResponse<OperationOutput<C>>>;
  (...args: Args<C, CallOptions>): Promise<OperationOutput<C>>;
  readonly contract: C;
}

/** The item type of a paginated operation (`{ data: T[], nextCursor }` → `T`). */
export type PageItem<C extends AnyContract> = OperationOutput<C> extends { data: Array<infer T>; nextCursor: string | null } ? T : never;
