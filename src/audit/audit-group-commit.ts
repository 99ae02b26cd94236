import type { Kysely } from 'kysely';
import type { AuditInput, AuditLog } from './audit-log.js';
import { isRetryableTransactionError } from '../domain/db-errors.js';
import type { Database } from '../store/schema.js';

/** Most events one commit takes; more wait for the next. */
const MAX_BATCH = 256;
/** Attempts of a batch's transaction when PostgreSQL reports a deadlock or serialization failure. */
const MAX_ATTEMPTS = 3;

interface Pending {
  event: AuditInput;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes audit events with group commit: each caller waits until its own event is
 * committed (so the proxy relays and a mint returns nothing unaudited — fail-closed), but
 * events that arrive in the same turn of the event loop, or while a commit is running,
 * share one.
 *
 * Why: the audit chain serialises appends per tenant (the tenant row holds the chain head,
 * locked while appending), and every commit costs a flush to disk. One commit per proxied
 * request capped a tenant at the disk's commit rate (measured: ~30 requests/s on
 * PostgreSQL on a loaded host); sharing commits lets throughput follow load while an idle
 * caller still pays exactly one commit (started on the next turn of the event loop: no
 * timer).
 *
 * Each tenant's events are appended in arrival order in a transaction of their own (one
 * tenant's failure never fails another's callers, and no transaction ever locks two
 * tenant rows, so batches cannot deadlock each other across instances).
 *
 * @example
 * ```ts
 * const audit = new AuditGroupCommit(store.db, auditLog);
 * await audit.write({ tenantId, at, actor, action: 'integrations.proxy', … }); // committed when it resolves
 * ```
 */
export class AuditGroupCommit {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
  ) {}

  /** Resolves once `event` is committed to its tenant's chain; rejects if that commit failed. */
  write(event: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (this.flushing) return;
      // Started on the next turn of the event loop, not now: with SQLite every query of a
      // request runs in microtasks, so a request would otherwise run from its socket read to
      // its own commit before the next request's read is even looked at (one commit each).
      // Deferred, the commit takes every request that arrived in this turn.
      this.flushing = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const byTenant = new Map<string, Pending[]>();
        for (const item of batch) {
          const group = byTenant.get(item.event.tenantId);
          if (group) group.push(item);
          else byTenant.set(item.event.tenantId, [item]);
        }
        for (const group of byTenant.values()) await this.commit(group);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(group: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction().execute(async (trx) => {
          for (const item of group) await this.audit.append(trx, item.event);
        });
        for (const item of group) item.resolve();
        return;
      } catch (error) {
        if (attempt < MAX_ATTEMPTS && isRetryableTransactionError(error)) continue;
        for (const item of group) item.reject(error);
        return;
      }
    }
  }
}
