import type { FastifyInstance } from 'fastify';
import type { Readiness } from '../../observability/readiness.js';

export interface GracefulCloseOptions {
  readiness: Readiness;
  /** Longest to wait for in-flight requests before their connections are cut. */
  timeoutMs: number;
  /** Called when the timeout cut connections that were still busy. */
  onForced?: () => void;
}

/** How often idle keep-alive connections are reaped while draining. */
const REAP_INTERVAL_MS = 100;

/**
 * While draining, every response says `Connection: close`, so a keep-alive client whose
 * request was in flight when the drain began does not hold the server open afterwards.
 */
export function registerDrainHeader(app: FastifyInstance, readiness: Readiness): void {
  // Callback style: this runs on every response, and needs no promise.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (readiness.draining) reply.header('connection', 'close');
    done(null, payload);
  });
}

/**
 * Drains the HTTP server: marks the instance not ready (`/readyz` → 503), stops accepting
 * connections, closes idle keep-alive ones (again every 100 ms, as in-flight requests
 * finish), and waits for in-flight requests to finish. Past `timeoutMs` the remaining
 * connections are cut, so a hung upstream cannot hold a deploy forever. Resolves once the
 * server is closed; `forced` says whether the timeout had to cut anything.
 *
 * @example
 * ```ts
 * const { forced } = await closeGracefully(app, { readiness, timeoutMs: 10_000 });
 * ```
 */
export async function closeGracefully(app: FastifyInstance, opts: GracefulCloseOptions): Promise<{ forced: boolean }> {
  opts.readiness.startDraining();
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    opts.onForced?.();
    app.server.closeAllConnections();
  }, Math.max(0, opts.timeoutMs));
  const reaper = setInterval(() => app.server.closeIdleConnections(), REAP_INTERVAL_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(reaper);
  }
  return { forced };
}
