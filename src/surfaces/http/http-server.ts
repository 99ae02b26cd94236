import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from '../../contracts/registry.js';
import type { Authenticator } from '../../domain/access/authenticator.js';
import { LatchkeyError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Readiness } from '../../observability/readiness.js';
import type { Store } from '../../store/database.js';
import { buildOpenApi } from '../openapi/openapi.js';
import { registerContractRoutes } from './contract-routes.js';
import { DOCS_SCRIPT, docsHtml } from './docs-page.js';
import { clientErrorHandler, frameworkErrorHandler } from './framework-errors.js';
import { registerDrainHeader } from './graceful-close.js';
import { lazyChildLoggerFactory } from './lazy-request-logger.js';
import { registerMetricsRoute } from './metrics-route.js';
import { registerConnectRoutes } from './connect-routes.js';
import type { ConnectSessions } from '../../oauth/connect-sessions.js';
import { toProblem } from './problem.js';
import { RateLimiter } from './rate-limiter.js';
import { registerRequestMetrics } from './request-metrics.js';
import { registerStudioRoute } from './studio-route.js';
import { type ProxyRouteDeps, registerProxyRoute } from '../../proxy/proxy-route.js';
import { withProxyOperation } from '../../proxy/proxy-openapi.js';

export interface HttpServerDeps {
  registry: Registry;
  authenticator: Authenticator;
  store: Store;
  logger: Logger;
  version: string;
  publicUrl: string;
  bodyLimitBytes: number;
  rateLimitPerSecond: number;
  metrics: Metrics;
  /** Serve `/metrics` without an API key. */
  metricsPublic: boolean;
  /** Draining (shutdown) makes `/readyz` answer 503. */
  readiness: Readiness;
  /** The OAuth connect flow's public routes (`/connect/{token}`, `/oauth/callback`). */
  connect?: ConnectSessions;
  /** `ANY /v1/proxy/{key}/{id}/{path}` (a streaming route outside the registry, see src/proxy/). */
  proxy?: Omit<ProxyRouteDeps, 'auth'>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

const API_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};
const API_HEADER_ENTRIES = Object.entries(API_HEADERS);
const DOCS_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/**
 * The HTTP surface: Fastify with problem+json errors, request ids, security headers,
 * body limits, the contract routes, health checks, OpenAPI and the reference UI.
 */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    // Our own onResponse hook logs one line per request (path only, never the query).
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's child logger is built only if the request logs (see lazy-request-logger.ts).
    childLoggerFactory: lazyChildLoggerFactory,
    bodyLimit: deps.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 600 },
    // While draining, requests already on an open connection are served (with
    // `Connection: close`) rather than answered with Fastify's non-problem 503.
    return503OnClosing: false,
    // Undecodable URLs and over-long path parameters are refused as problems too.
    frameworkErrors: frameworkErrorHandler(API_HEADERS),
    clientErrorHandler: clientErrorHandler(API_HEADERS),
  });
  // JSON only: anything else is a 415, not silently read as text.
  app.removeContentTypeParser('text/plain');

  // Hooks run on every request, so they are callback-style (no promise each) and do only
  // what they must: measured, the hooks were a third of a no-work request's server CPU.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of API_HEADER_ENTRIES) reply.header(name, value);
    done();
  });

  const requestLog = deps.logger.isLevelEnabled('info');
  if (requestLog) {
    app.addHook('onResponse', (request, reply, done) => {
      // Path only: query strings may carry ids we do not want in logs at info level.
      request.log.info({ method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
      done();
    });
  }
  registerRequestMetrics(app, { metrics: deps.metrics, contracts: deps.registry.contracts() });
  registerDrainHeader(app, deps.readiness);
  // Input nesting depth is checked by the registry, for every surface (src/contracts/input-depth.ts).

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request.url.split('?')[0] ?? '/', request.id);
    if (problem.status >= 500) request.log.error({ err: error, requestId: request.id }, 'unexpected error');
    reply.code(problem.status).type('application/problem+json').send(problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const problem = toProblem(new LatchkeyError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`), request.url.split('?')[0] ?? '/', request.id);
    reply.code(404).type('application/problem+json').send(problem);
  });

  const keyLimiter = new RateLimiter(deps.rateLimitPerSecond, Math.max(deps.rateLimitPerSecond * 2, 1));
  const failedAuthLimiter = new RateLimiter(deps.rateLimitPerSecond > 0 ? 5 : 0, 50);
  registerContractRoutes(app, { registry: deps.registry, authenticator: deps.authenticator, keyLimiter, failedAuthLimiter });
  if (deps.connect) registerConnectRoutes(app, deps.connect);
  if (deps.proxy) registerProxyRoute(app, { ...deps.proxy, auth: { authenticator: deps.authenticator, keyLimiter, failedAuthLimiter } });
  registerMetricsRoute(app, { metrics: deps.metrics, authenticator: deps.authenticator, failedAuthLimiter, publicAccess: deps.metricsPublic });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (deps.readiness.draining) {
      reply.code(503);
      return { status: 'draining' };
    }
    try {
      await deps.store.db.selectFrom('tenants').select('id').limit(1).execute();
      return { status: 'ready' };
    } catch {
      reply.code(503);
      return { status: 'unavailable', reason: 'database' };
    }
  });

  const registryDoc = buildOpenApi(deps.registry.contracts(), { version: deps.version, serverUrl: deps.publicUrl });
  const openapi = deps.proxy ? withProxyOperation(registryDoc) : registryDoc;
  app.get('/openapi.json', async () => openapi);
  app.get('/docs', async (_request, reply) => {
    reply.header('content-security-policy', DOCS_CSP).type('text/html; charset=utf-8');
    return docsHtml();
  });
  app.get('/docs/app.js', async (_request, reply) => {
    reply.header('content-security-policy', DOCS_CSP).type('text/javascript; charset=utf-8');
    return DOCS_SCRIPT;
  });
  registerStudioRoute(app);
  return app;
}
