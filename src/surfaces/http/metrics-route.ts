import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../domain/access/authenticator.js';
import { LatchkeyError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import type { RateLimiter } from './rate-limiter.js';
import { presentedKey } from './request-headers.js';

export interface MetricsRouteDeps {
  metrics: Metrics;
  authenticator: Authenticator;
  /** Slows down key guessing, shared with the contract routes. */
  failedAuthLimiter: RateLimiter;
  /** `LATCHKEY_METRICS_PUBLIC=true`: no key needed (a scraper on a trusted network). */
  publicAccess: boolean;
}

/**
 * Only an `admin` key of the operator (platform) tenant may scrape: the metrics count
 * every tenant's traffic, which no single customer tenant should see.
 */
async function requireOperatorAdmin(deps: MetricsRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const token = presentedKey(request.headers);
  const principal = token ? await deps.authenticator.authenticate(token) : null;
  if (!principal) {
    const wait = deps.failedAuthLimiter.take(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new LatchkeyError('rate_limited', 'too many failed authentication attempts');
    }
    reply.header('www-authenticate', 'Bearer realm="latchkey"');
    throw new LatchkeyError('unauthenticated', token ? 'the API key is not valid' : 'send an admin API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"');
  }
  if (principal.role !== 'admin' || !principal.isPlatformTenant) {
    throw new LatchkeyError('forbidden', '/metrics needs an admin key of the operator tenant (or LATCHKEY_METRICS_PUBLIC=true)');
  }
}

/**
 * `GET /metrics`: Prometheus text format. Needs an operator admin key unless the operator
 * opted into public scraping.
 *
 * @example
 * ```sh
 * curl -H "Authorization: Bearer $LATCHKEY_ADMIN_KEY" http://127.0.0.1:8787/metrics
 * ```
 */
export function registerMetricsRoute(app: FastifyInstance, deps: MetricsRouteDeps): void {
  app.get('/metrics', { config: { operation: 'system.metrics' } }, async (request, reply) => {
    if (!deps.publicAccess) await requireOperatorAdmin(deps, request, reply);
    const text = await deps.metrics.render();
    reply.type(deps.metrics.contentType);
    return text;
  });
}
