import { z } from 'zod';
import { type StreamingContract, ProxyRequest } from '../contracts/integrations/proxy-contract.js';
import { statusOf, titleOf } from '../errors.js';

type JsonObject = Record<string, unknown>;

const COMMON_ERRORS = ['unauthenticated', 'rate_limited', 'internal'] as const;

function operationFor(contract: StreamingContract, method: string): JsonObject {
  const shape = (contract.io.input as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
  const schemaOf = (name: string) => {
    const { $schema: _drop, ...rest } = z.toJSONSchema(shape[name]!, { io: 'input', unrepresentable: 'any' }) as JsonObject;
    return rest;
  };
  const responses: JsonObject = {
    default: { description: contract.io.response },
  };
  for (const code of new Set([...contract.io.errors, ...COMMON_ERRORS])) {
    responses[String(statusOf(code))] = { description: titleOf(code), content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  }
  return {
    operationId: `${contract.meta.key}.${method}`,
    summary: `${contract.meta.title} (${method.toUpperCase()})`,
    description: `${contract.meta.description}\n\n**Goal.** ${contract.meta.goal}\n\n**Context.** ${contract.meta.context}`,
    tags: contract.meta.tags,
    parameters: [
      { name: 'key', in: 'path', required: true, schema: schemaOf('key') },
      { name: 'id', in: 'path', required: true, schema: schemaOf('id') },
      {
        name: 'path',
        in: 'path',
        required: true,
        // OpenAPI path parameters cannot span slashes; this one does, as the description says.
        description: 'The rest of the URL, slashes and query included, appended to the provider\'s base URL (dot segments, encoded slashes and backslashes are refused)',
        schema: { type: 'string' },
      },
    ],
    ...(['get', 'head', 'delete'].includes(method)
      ? {}
      : { requestBody: { required: false, description: 'Forwarded as is, any media type, streamed', content: { '*/*': { schema: {} } } } }),
    responses,
    'x-latchkey': {
      key: contract.meta.key,
      kind: contract.kind,
      version: contract.meta.version,
      stability: contract.meta.stability,
      owners: contract.meta.owners,
      policies: contract.policy.policies,
      stream: true,
    },
  };
}

/**
 * Adds the proxy's path to an OpenAPI document built from the registry (the proxy is a
 * streaming operation outside it): one operation per forwarded method, with the contract's
 * texts, policy and problem responses.
 *
 * @example
 * ```ts
 * const doc = withProxyOperation(buildOpenApi(registry.contracts(), { version }));
 * ```
 */
export function withProxyOperation<T extends JsonObject>(doc: T, contract: StreamingContract = ProxyRequest): T {
  const paths = (doc.paths ?? {}) as Record<string, JsonObject>;
  const item: JsonObject = {};
  for (const method of contract.http.methods) item[method.toLowerCase()] = operationFor(contract, method.toLowerCase());
  return { ...doc, paths: { ...paths, [contract.http.path]: item } };
}
