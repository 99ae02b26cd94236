import type { z } from 'zod';
import type { LatchkeyErrorCode } from '../errors.js';
import type { PolicyRef } from './policies.js';

/** Lifecycle of a contract; a breaking change to a `stable` one needs a major version. */
export type Stability = 'experimental' | 'beta' | 'stable' | 'deprecated';

export interface ContractMeta {
  /** `domain.resource.verb`, e.g. `integrations.connection.update`. */
  key: string;
  title: string;
  /** Semver of the contract itself. */
  version: string;
  description: string;
  goal: string;
  context: string;
  owners: string[];
  tags: string[];
  stability: Stability;
}

export interface ContractPolicy {
  /** `key`: the caller must present a valid API key. */
  auth: 'key';
  /** Every policy listed must be held; an empty list is refused at start-up. */
  policies: PolicyRef[];
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpBinding {
  method: HttpMethod;
  /** Fastify-style path, `{name}` params, e.g. `/v1/integrations/{key}`. */
  path: string;
  /** Status on success; 200 unless stated. */
  successStatus?: number;
  /** Input fields read from the query string (everything else comes from path or body). */
  query?: string[];
  /** Extra paths bound to the same operation (e.g. the cross-integration connection list). */
  aliases?: string[];
  /**
   * Input fields read from request headers, field name → header name (e.g.
   * `{ reason: 'X-Reveal-Reason' }`). Such a field is never accepted in the body.
   */
  headers?: Record<string, string>;
  /**
   * `false` refuses `Idempotency-Key` (400): every call must be authorised, checked and
   * audited on its own, and its response must not be kept for a replay (e.g. a reveal).
   */
  idempotencyKey?: false;
  /**
   * `true` when the handler honours `If-Match` (optimistic concurrency on the record's
   * `version`, 412 on a stale ETag). A command without it refuses the header (400) rather
   * than act while the caller believes the change is conditional.
   */
  ifMatch?: true;
}

export interface ContractIo<I extends z.ZodType, O extends z.ZodType> {
  input: I;
  output: O;
  /** The error codes this operation may answer with, besides the ones every call can. */
  errors: LatchkeyErrorCode[];
}

/** What a command's audit event names as its resource, known from the input alone. */
export interface ContractAudit<In> {
  /**
   * The record the call is about. The registry records it before the operation runs, so
   * an event for a call that fails (a 404, a 409, a provider refusing a refresh) still
   * names what was asked for; a handler may replace it with what it actually touched.
   */
  resource(input: In): { type: string; id: string };
}

export interface Contract<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  kind: 'command' | 'query';
  meta: ContractMeta;
  io: ContractIo<I, O>;
  policy: ContractPolicy;
  http: HttpBinding;
  audit?: ContractAudit<z.output<I>>;
}

export type AnyContract = Contract<z.ZodType, z.ZodType>;
export type InputOf<C extends AnyContract> = z.output<C['io']['input']>;
export type OutputOf<C extends AnyContract> = z.input<C['io']['output']>;

type Spec<I extends z.ZodType, O extends z.ZodType> = Omit<Contract<I, O>, 'kind'>;

/**
 * Declares an operation that changes state. Commands run in a transaction and are
 * always audited.
 *
 * @example
 * ```ts
 * export const DeleteIntegration = defineCommand({
 *   meta: { key: 'integrations.integration.delete', title: 'Delete integration', version: '1.0.0', … },
 *   io: { input: z.object({ key: IntegrationKey }), output: z.object({ deleted: z.literal(true) }), errors: ['not_found'] },
 *   policy: { auth: 'key', policies: [policy('platform.integration.manage')] },
 *   http: { method: 'DELETE', path: '/v1/integrations/{key}' },
 * });
 * ```
 */
export function defineCommand<I extends z.ZodType, O extends z.ZodType>(spec: Spec<I, O>): Contract<I, O> {
  return { kind: 'command', ...spec };
}

/** Declares an operation that only reads. */
export function defineQuery<I extends z.ZodType, O extends z.ZodType>(spec: Spec<I, O>): Contract<I, O> {
  return { kind: 'query', ...spec };
}
