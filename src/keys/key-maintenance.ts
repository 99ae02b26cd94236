import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Store } from '../store/database.js';
import { startPeriodicTask } from '../periodic-task.js';
import { auditKeyEvent } from './system-audit.js';

export interface KeyMaintenanceOptions {
  store: Store;
  keyring: Keyring;
  audit: AuditLog;
  logger: Logger;
  /** Rotate a tenant's data key once its current version is this many days old. */
  rotationDays: number;
  /** How often to look (default one hour; the first look is a minute after start). */
  intervalMs?: number;
  clock?: () => Date;
}

/**
 * Scheduled data-key rotation (LATCHKEY_DATA_KEY_ROTATION_DAYS): rotates every tenant whose
 * current version is older than the period. Safe with several instances: a version is
 * rotated only while it is still current, so one instance wins and the others skip it.
 * Returns the number of tenants rotated.
 */
export async function rotateAgedDataKeys(opts: Omit<KeyMaintenanceOptions, 'logger' | 'intervalMs'>): Promise<number> {
  const now = (opts.clock ?? (() => new Date()))();
  const cutoff = new Date(now.getTime() - opts.rotationDays * 86_400_000).toISOString();
  const due = await opts.store.db
    .selectFrom('data_keys')
    .select(['tenant_id', 'version'])
    .where('superseded_at', 'is', null)
    .where('retired_at', 'is', null)
    .where('created_at', '<', cutoff)
    .execute();
  let rotated = 0;
  for (const row of due) {
    const version = await opts.store.db.transaction().execute(async (trx) => {
      const next = await opts.keyring.rotateTenantKeyIfCurrent(trx, row.tenant_id, Number(row.version), now.toISOString());
      if (next !== null) {
        await auditKeyEvent(trx, opts.audit, {
          tenantId: row.tenant_id,
          at: now,
          action: 'keys.dataKey.rotate',
          resource: { type: 'data_key', id: `${row.tenant_id}:v${next}` },
          changes: { fields: ['dataKeyVersion'], secretsChanged: [] },
        });
      }
      return next;
    });
    if (version !== null) {
      opts.keyring.forget(row.tenant_id);
      rotated++;
    }
  }
  return rotated;
}

/** Starts the scheduled rotation loop; `stop()` ends it. Does nothing when the period is 0. */
export function startKeyMaintenance(opts: KeyMaintenanceOptions): { stop(): void } {
  if (opts.rotationDays <= 0) return { stop() {} };
  return startPeriodicTask(() => rotateAgedDataKeys(opts), {
    name: 'scheduled data-key rotation',
    firstMs: Math.min(60_000, opts.intervalMs ?? 60_000),
    intervalMs: opts.intervalMs ?? 3_600_000,
    logger: opts.logger,
  });
}
