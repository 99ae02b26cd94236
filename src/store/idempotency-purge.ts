import type { Logger } from 'pino';
import type { Store } from './database.js';
import type { IdempotencyStore } from './idempotency-store.js';

/** How often expired Idempotency-Key records are deleted (the first time a minute after start). */
const PURGE_INTERVAL_MS = 15 * 60_000;
const FIRST_PURGE_MS = 60_000;

/**
 * Deletes expired Idempotency-Key records on a schedule of its own: a stored answer may
 * hold a secret shown once (a new API key), so it must go whatever else is switched off
 * (the refresh sweep, the webhook dispatcher). Safe on several instances: a delete by age.
 *
 * @example
 * ```ts
 * const purge = startIdempotencyPurge({ store, idempotency, logger });
 * purge.stop();
 * ```
 */
export function startIdempotencyPurge(opts: { store: Store; idempotency: IdempotencyStore; logger: Logger; intervalMs?: number }): { stop(): void } {
  const run = () =>
    void opts.idempotency.purgeExpired(opts.store.db, new Date()).then(
      (purged) => {
        if (purged > 0) opts.logger.info({ purged }, 'expired Idempotency-Key records deleted');
      },
      (error: unknown) => opts.logger.warn({ err: error }, 'deleting expired Idempotency-Key records failed; will retry'),
    );
  const first = setTimeout(run, Math.min(FIRST_PURGE_MS, opts.intervalMs ?? PURGE_INTERVAL_MS));
  const timer = setInterval(run, opts.intervalMs ?? PURGE_INTERVAL_MS);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
