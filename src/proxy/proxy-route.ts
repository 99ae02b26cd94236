import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../contracts/context.js';
import { PROXY_METHODS, ProxyRequest } from '../contracts/integrations/proxy-contract.js';
import type { Services } from '../domain/services.js';
import { LatchkeyError } from '../errors.js';
import { type RouteDeps, authenticate } from '../surfaces/http/contract-routes.js';
import { type ProxyOptions, ProxyForwarder } from './proxy-forwarder.js';
import { UpstreamAgents } from './upstream-agents.js';

export interface ProxyRouteDeps extends ProxyOptions {
  services: Services;
  /** The same authenticator and rate limiters as every other route. */
  auth: Pick<RouteDeps, 'authenticator' | 'keyLimiter' | 'failedAuthLimiter'>;
}

/**
 * Registers `ANY /v1/proxy/{key}/{id}/{path}` in an encapsulated plugin: its catch-all
 * content-type parser leaves the request body unread (the forwarder streams it), so the
 * JSON-only parsers and the API's 1 MiB body limit of every other route do not apply here;
 * the proxy's own limit does. Authentication runs in `onRequest`, before any body byte is
 * read, exactly as for the contract routes.
 *
 * @example
 * ```ts
 * registerProxyRoute(app, { services, auth: { authenticator, keyLimiter, failedAuthLimiter }, timeoutMs: 30_000, bodyLimitBytes: 100 << 20 });
 * ```
 */
export function registerProxyRoute(app: FastifyInstance, deps: ProxyRouteDeps): void {
  const agents = new UpstreamAgents(deps.services.guard);
  const forwarder = new ProxyForwarder(deps.services, agents, { timeoutMs: deps.timeoutMs, bodyLimitBytes: deps.bodyLimitBytes });

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.addHook('onClose', async () => agents.destroy());

    const principals = new WeakMap<FastifyRequest, Principal>();
    const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
      principals.set(request, await authenticate(deps.auth, request, reply));
    };
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = principals.get(request);
      if (!principal) throw new LatchkeyError('unauthenticated', 'an API key is required');
      const gone = new AbortController();
      // 'close' also follows a finished response; only an unfinished one means the caller left.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      try {
        const response = await forwarder.forward({
          principal,
          requestId: request.id,
          ip: request.ip,
          method: request.method,
          rawUrl: request.raw.url ?? '/',
          headers: request.headers,
          body: request.raw,
          signal: gone.signal,
        });
        reply.code(response.status).headers(response.headers);
        return reply.send(response.body);
      } catch (error) {
        if (gone.signal.aborted) {
          // Nobody is left to answer (the call is audited as an error already): not a server
          // fault, so no error log line that would send an operator chasing the provider.
          request.log.info({ requestId: request.id }, 'proxy caller went away before the answer');
          reply.hijack();
          reply.raw.destroy();
          return reply;
        }
        // A body left unread (refused before or while streaming) cannot be skipped safely: close after answering.
        if (!request.raw.complete) reply.header('connection', 'close');
        throw error;
      }
    };
    for (const url of ['/v1/proxy/:key/:id', '/v1/proxy/:key/:id/*']) {
      scope.route({
        method: [...PROXY_METHODS],
        url,
        exposeHeadRoute: false,
        bodyLimit: deps.bodyLimitBytes,
        config: { operation: ProxyRequest.meta.key },
        onRequest,
        handler,
      });
    }
  });
}
