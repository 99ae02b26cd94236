import { z } from 'zod';
import type { AnyContract } from '../../contracts/define.js';
import { ERROR_CODES, statusOf, titleOf } from '../../errors.js';
import { pathParamsOf } from '../http/contract-routes.js';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

const ProblemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', enum: ERROR_CODES },
    reason: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] } },
  },
};

/** Errors any authenticated operation can answer with. */
const COMMON_ERRORS = ['bad_request', 'unauthenticated', 'forbidden', 'validation_failed', 'rate_limited'] as const;

const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: 'Apply only if the record is still at this version: an ETag from an earlier answer (`"3"`, a list, or `*`); otherwise 412',
  schema: { type: 'string' },
};
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Repeating the same request with the same key within 24 h replays the first answer instead of acting twice (1–255 visible ASCII characters)',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
};

/** `alias` is 0 for the contract's own path, n for its n-th alias. */
function operationOf(contract: AnyContract, path: string, alias: number): JsonSchema {
  const input = contract.io.input as unknown as z.ZodObject;
  const shape = input.shape as Record<string, z.ZodType>;
  const pathParams = pathParamsOf(path);
  const query = (contract.http.query ?? []).filter((q) => shape[q]);
  const headerFields = Object.entries(contract.http.headers ?? {}).filter(([field]) => shape[field]);
  const takesIdempotencyKey = contract.kind === 'command' && contract.http.method === 'POST' && contract.http.idempotencyKey !== false;
  const parameters = [
    ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: shape[name] ? toSchema(shape[name], 'input') : { type: 'string' } })),
    ...query.map((name) => ({ name, in: 'query', required: false, schema: toSchema(shape[name]!, 'input') })),
    ...headerFields.map(([field, name]) => ({ name, in: 'header', required: !shape[field]!.safeParse(undefined).success, schema: toSchema(shape[field]!, 'input') })),
    ...(contract.http.ifMatch ? [IF_MATCH] : []),
    ...(takesIdempotencyKey ? [IDEMPOTENCY_KEY] : []),
  ];
  const bodyFields = Object.keys(shape).filter(
    (k) => !pathParams.includes(k) && !query.includes(k) && !headerFields.some(([field]) => field === k) && !(contract.http.aliases && k === 'key'),
  );
  const hasBody = !['GET', 'DELETE'].includes(contract.http.method) && bodyFields.length > 0;
  const omit = Object.fromEntries(Object.keys(shape).filter((k) => !bodyFields.includes(k)).map((k) => [k, true as const]));
  const errors = [...new Set([...COMMON_ERRORS, ...contract.io.errors, 'internal' as const])];
  const outputShape = (contract.io.output as unknown as { shape?: Record<string, unknown> }).shape;
  const successHeaders = {
    // The HTTP surface sets ETag whenever the answer is a versioned record.
    ...(outputShape?.version ? { ETag: { description: 'The record\'s version as an ETag (`"3"`), for If-Match', schema: { type: 'string' } } } : {}),
    ...(takesIdempotencyKey ? { 'Idempotent-Replayed': { description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } } } : {}),
  };
  const responses: Record<string, unknown> = {
    [String(contract.http.successStatus ?? 200)]: {
      description: contract.meta.title,
      ...(Object.keys(successHeaders).length > 0 ? { headers: successHeaders } : {}),
      content: { 'application/json': { schema: toSchema(contract.io.output, 'output') } },
    },
  };
  // A JSON body is required of it: any other media type is refused.
  if (hasBody) errors.push('unsupported_media_type', 'payload_too_large');
  for (const code of errors) {
    responses[String(statusOf(code))] = { description: titleOf(code), content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  }
  return {
    // Unique per document (OpenAPI requires it): an alias gets its own id, marked as one.
    operationId: alias === 0 ? contract.meta.key : `${contract.meta.key}.alias${alias}`,
    summary: contract.meta.title,
    description: `${contract.meta.description}\n\n**Goal.** ${contract.meta.goal}\n\n**Context.** ${contract.meta.context}`,
    tags: contract.meta.tags,
    parameters,
    ...(hasBody ? { requestBody: { required: contract.http.method !== 'PATCH', content: { 'application/json': { schema: toSchema(input.omit(omit as never), 'input') } } } } : {}),
    responses,
    'x-latchkey': {
      ...(alias === 0 ? {} : { aliasOf: contract.meta.key }),
      kind: contract.kind,
      version: contract.meta.version,
      stability: contract.meta.stability,
      owners: contract.meta.owners,
      policies: contract.policy.policies,
    },
  };
}

/**
 * The OpenAPI 3.1 document, generated from the registry: every operation and alias, its
 * parameters, body, success and problem responses. Schemas come from the same zod
 * definitions that validate requests, so the document cannot drift from the server.
 */
export function buildOpenApi(contracts: readonly AnyContract[], opts: { version: string; serverUrl?: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const contract of contracts) {
    for (const [alias, path] of [contract.http.path, ...(contract.http.aliases ?? [])].entries()) {
      paths[path] ??= {};
      paths[path][contract.http.method.toLowerCase()] = operationOf(contract, path, alias);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Latchkey API',
      version: opts.version,
      description: 'Integrations, connections and their credentials: encrypted at rest, write-only, refreshed, tested and audited.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: { Problem: ProblemSchema },
    },
  };
}
