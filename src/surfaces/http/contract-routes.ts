import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../contracts/context.js';
import type { AnyContract } from '../../contracts/define.js';
import type { Registry } from '../../contracts/registry.js';
import type { Authenticator } from '../../domain/access/authenticator.js';
import { type FieldError, LatchkeyError } from '../../errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { etagOf, ifMatchFor, parseIdempotencyKey, presentedKey } from './request-headers.js';

/** `/v1/integrations/{key}` → `/v1/integrations/:key` */
export const toFastifyPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');
export const pathParamsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

export interface RouteDeps {
  registry: Registry;
  authenticator: Authenticator;
  keyLimiter: RateLimiter;
  failedAuthLimiter: RateLimiter;
}

/**
 * Assembles an operation's input from the path, the declared query fields and the JSON
 * body. A field may come from one place only; unknown query parameters are refused.
 */
function assembleInput(contract: AnyContract, request: FastifyRequest): Record<string, unknown> {
  const params = (request.params ?? {}) as Record<string, string>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const allowedQuery = new Set(contract.http.query ?? []);
  const errors: FieldError[] = [];
  for (const name of Object.keys(query)) {
    if (!allowedQuery.has(name)) errors.push({ path: `query.${name}`, message: 'is not a query parameter of this operation' });
  }
  let body: Record<string, unknown> = {};
  if (contract.http.method !== 'GET' && contract.http.method !== 'DELETE' && request.body !== undefined && request.body !== null) {
    if (typeof request.body !== 'object' || Array.isArray(request.body)) throw new LatchkeyError('bad_request', 'the request body must be a JSON object');
    body = request.body as Record<string, unknown>;
  }
  for (const name of Object.keys(params)) {
    if (Object.hasOwn(body, name)) errors.push({ path: name, message: 'is given in the path; leave it out of the body' });
  }
  const headerFields = Object.entries(contract.http.headers ?? {});
  for (const [name, header] of headerFields) {
    if (Object.hasOwn(body, name)) errors.push({ path: name, message: `is read from the ${header} header; leave it out of the body` });
  }
  if (errors.length > 0) throw new LatchkeyError('validation_failed', 'the request has fields this operation does not take', { errors });
  const input: Record<string, unknown> = { ...body };
  for (const name of allowedQuery) if (query[name] !== undefined) input[name] = query[name];
  for (const [name, value] of Object.entries(params)) input[name] = value;
  for (const [name, header] of headerFields) {
    const value = request.headers[header.toLowerCase()];
    if (value !== undefined) input[name] = value;
  }
  return input;
}

/**
 * Resolves the caller's API key to a principal (401 without a valid key), applying the
 * per-key and failed-authentication rate limits (429). Shared by every authenticated route.
 *
 * @example
 * ```ts
 * app.route({ method: 'GET', url, onRequest: async (req, reply) => { principals.set(req, await authenticate(deps, req, reply)); }, handler });
 * ```
 */
export async function authenticate(deps: Pick<RouteDeps, 'authenticator' | 'keyLimiter' | 'failedAuthLimiter'>, request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
  const token = presentedKey(request.headers);
  const ip = request.ip;
  if (token) {
    const principal = await deps.authenticator.authenticate(token);
    if (principal) {
      const wait = deps.keyLimiter.take(principal.keyId);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw new LatchkeyError('rate_limited', 'too many requests for this API key');
      }
      return principal;
    }
  }
  // Unknown keys count against the client address, so guessing keys is slow.
  const wait = deps.failedAuthLimiter.take(ip);
  if (wait > 0) {
    reply.header('retry-after', String(wait));
    throw new LatchkeyError('rate_limited', 'too many failed authentication attempts');
  }
  reply.header('www-authenticate', 'Bearer realm="latchkey"');
  throw new LatchkeyError('unauthenticated', token ? 'the API key is not valid' : 'send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"');
}

/** Registers one route per contract (and its aliases); every route runs the registry pipeline. */
export function registerContractRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // Authenticate in `onRequest`, before Fastify reads the body: an anonymous caller gets a
  // 401 without the server parsing up to a MiB of JSON for it, and learns nothing from 400/413/415.
  const principals = new WeakMap<FastifyRequest, Principal>();
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    principals.set(request, await authenticate(deps, request, reply));
  };
  for (const contract of deps.registry.contracts()) {
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = principals.get(request);
      if (!principal) throw new LatchkeyError('unauthenticated', 'an API key is required');
      const input = assembleInput(contract, request);
      const result = await deps.registry.execute(contract.meta.key, input, {
        principal,
        requestId: request.id,
        ip: request.ip,
        surface: 'http',
        ifMatch: ifMatchFor(contract, request.headers['if-match']),
        idempotencyKey: contract.http.method === 'POST' ? parseIdempotencyKey(request.headers['idempotency-key']) : undefined,
      });
      const output = result.output as { version?: unknown };
      if (typeof output?.version === 'number') reply.header('etag', etagOf(output.version));
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      reply.code(contract.http.successStatus ?? 200);
      return output;
    };
    for (const path of [contract.http.path, ...(contract.http.aliases ?? [])]) {
      app.route({ method: contract.http.method, url: toFastifyPath(path), onRequest, handler });
    }
  }
}
