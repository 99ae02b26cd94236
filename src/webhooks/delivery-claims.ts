import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.js';
import type { Database, WebhookDeliveryTable } from '../store/schema.js';
import { type RetryPolicy, retryDelayMs } from './retry-schedule.js';
import type { AttemptOutcome } from './webhook-sender.js';

/** One attempt as kept in `attempt_log` and shown by `webhooks.delivery.list`. */
export interface AttemptRecord {
  number: number;
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** A delivery this dispatcher holds the lease of, until `lease_until`. */
export type ClaimedDelivery = WebhookDeliveryTable & { lease_token: string };

/**
 * Claims up to `limit` due deliveries (pending, next attempt reached, no live lease, endpoint
 * enabled) by writing a fresh lease token on them, in one statement. The lease keeps every
 * other dispatcher — in this process or another instance sharing the database — away from
 * the row while its HTTP attempt runs outside any transaction; a dispatcher that dies
 * mid-attempt loses it when `lease_until` passes, and the delivery is tried again.
 *
 * On PostgreSQL the candidate rows are picked `FOR UPDATE SKIP LOCKED`, so instances
 * claiming at the same moment take different rows instead of queueing on the same ones.
 * SQLite runs one writer at a time, so the update itself is the claim.
 */
export async function claimDueDeliveries(db: Kysely<Database>, engine: Engine, opts: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
  const now = opts.now.toISOString();
  const token = randomUUID();
  let due = db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .where('endpoint_uid', 'in', db.selectFrom('webhook_endpoints').select('uid').where('enabled', '=', 1))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(opts.limit);
  if (engine === 'postgres') due = due.forUpdate().skipLocked();
  const claimed = await db
    .updateTable('webhook_deliveries')
    .set({ lease_token: token, lease_until: new Date(opts.now.getTime() + opts.leaseMs).toISOString() })
    .where('id', 'in', due)
    .returningAll()
    .execute();
  // RETURNING gives no order: put them back in event order (ids are time-ordered).
  return (claimed as ClaimedDelivery[]).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Writes an attempt's outcome and releases the lease: `succeeded`, `failed` after the last
 * allowed attempt, or `pending` with the next attempt time. Does nothing when the lease was
 * lost meanwhile (another dispatcher took the row over and will write its own outcome).
 */
export async function recordAttempt(
  db: Kysely<Database>,
  delivery: ClaimedDelivery,
  outcome: AttemptOutcome,
  opts: { now: Date; retry: RetryPolicy; random?: () => number },
): Promise<AttemptRecord & { status: 'succeeded' | 'failed' | 'pending'; nextAttemptAt: string | null }> {
  const number = Number(delivery.attempts) + 1;
  const at = opts.now.toISOString();
  const attempt: AttemptRecord = { number, at, statusCode: outcome.statusCode, error: outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : null, durationMs: outcome.durationMs };
  const log = [...(JSON.parse(delivery.attempt_log) as AttemptRecord[]), attempt];
  const status = outcome.ok ? 'succeeded' : number >= opts.retry.maxAttempts ? 'failed' : 'pending';
  const nextAttemptAt = status === 'pending' ? new Date(opts.now.getTime() + retryDelayMs(number, opts.retry, opts.random)).toISOString() : null;
  await db
    .updateTable('webhook_deliveries')
    .set({
      status,
      attempts: number,
      attempt_log: JSON.stringify(log),
      next_attempt_at: nextAttemptAt,
      lease_token: null,
      lease_until: null,
      last_status_code: outcome.statusCode,
      last_error: attempt.error,
      updated_at: at,
      completed_at: status === 'pending' ? null : at,
    })
    .where('id', '=', delivery.id)
    .where('lease_token', '=', delivery.lease_token)
    .execute();
  return { ...attempt, status, nextAttemptAt };
}

/** Gives a claimed delivery back without counting an attempt (the dispatcher is stopping). */
export async function releaseLease(db: Kysely<Database>, delivery: ClaimedDelivery): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ lease_token: null, lease_until: null })
    .where('id', '=', delivery.id)
    .where('lease_token', '=', delivery.lease_token)
    .execute();
}

/** Deletes finished deliveries older than `before` (the retention period), at most `limit` at a time. */
export async function pruneFinishedDeliveries(db: Kysely<Database>, before: Date, limit = 1000): Promise<number> {
  const old = db.selectFrom('webhook_deliveries').select('id').where('completed_at', '<', before.toISOString()).limit(limit);
  const result = await db.deleteFrom('webhook_deliveries').where('id', 'in', old).executeTakeFirst();
  return Number(result.numDeletedRows);
}
