import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AnyContract } from '../../contracts/define.js';
import type { Metrics } from '../../observability/metrics.js';
import { toFastifyPath } from './contract-routes.js';

/** Operation keys of the routes that are not contracts. */
const SYSTEM_ROUTES: Record<string, string> = {
  'GET /healthz': 'system.health',
  'GET /readyz': 'system.ready',
  'GET /metrics': 'system.metrics',
  'GET /openapi.json': 'system.openapi',
  'GET /docs': 'system.docs',
  'GET /docs/app.js': 'system.docs',
};

/** Label of requests that matched no route (so a scan of random URLs adds no series). */
export const UNKNOWN_OPERATION = 'unknown';

/**
 * The operation a request ran, for metric labels: a route's `config.operation` when it
 * declares one, else the contract bound to its route pattern, else a system key, else the
 * route pattern itself (`route:GET /connect/:token` — bounded, since patterns never hold
 * ids), and `unknown` when nothing matched. Never the raw URL: it carries ids.
 */
export function operationResolver(contracts: readonly AnyContract[]): (request: FastifyRequest) => string {
  const byRoute = new Map<string, string>(Object.entries(SYSTEM_ROUTES));
  for (const contract of contracts) {
    for (const path of [contract.http.path, ...(contract.http.aliases ?? [])]) {
      byRoute.set(`${contract.http.method} ${toFastifyPath(path)}`, contract.meta.key);
    }
  }
  return (request) => {
    const options = request.routeOptions;
    const declared = (options.config as { operation?: unknown } | undefined)?.operation;
    if (typeof declared === 'string') return declared;
    const url = options.url;
    if (!url) return UNKNOWN_OPERATION;
    // Fastify answers HEAD on every GET route; count it as the GET's operation.
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    return byRoute.get(`${method} ${url}`) ?? `route:${method} ${url}`;
  };
}

/** Counts every response and its latency by operation key and status class. */
export function registerRequestMetrics(app: FastifyInstance, deps: { metrics: Metrics; contracts: readonly AnyContract[] }): void {
  const operationOf = operationResolver(deps.contracts);
  // Callback style: this runs on every response, and needs no promise.
  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.operation(operationOf(request), reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
