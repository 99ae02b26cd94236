import type { Logger } from 'pino';
import { startPeriodicTask } from '../periodic-task.js';
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
  const intervalMs = opts.intervalMs ?? PURGE_INTERVAL_MS;
  return startPeriodicTask(() => opts.idempotency.purgeExpired(opts.store.db, new Date()), {
    name: 'expired Idempotency-Key purge',
    firstMs: Math.min(FIRST_PURGE_MS, intervalMs),
    intervalMs,
    logger: opts.logger,
  });
}
