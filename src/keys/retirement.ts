import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../store/schema.js';
import { CIPHERTEXT_SOURCES } from './ciphertext-sources.js';
import { auditKeyEvent } from './system-audit.js';

export interface RetiredVersion {
  tenantId: string;
  version: number;
}

/**
 * Retires every superseded data-key version that no ciphertext references any more: its
 * wrapped key is erased (the row stays, so the version number is never reused and
 * `keys status` keeps its history). Safe while the service runs: a superseded version
 * never encrypts again (see `Keyring`), so a version with no ciphertext left stays that way.
 *
 * @example
 * ```ts
 * const retired = await retireUnreferencedDataKeys(store.db, keyring, new Date());
 * ```
 */
export async function retireUnreferencedDataKeys(db: Kysely<Database>, keyring: Keyring, now: Date, audit?: AuditLog): Promise<RetiredVersion[]> {
  const candidates = await db
    .selectFrom('data_keys')
    .select(['tenant_id', 'version'])
    .where('superseded_at', 'is not', null)
    .where('retired_at', 'is', null)
    .orderBy('tenant_id')
    .orderBy('version')
    .execute();
  const retired: RetiredVersion[] = [];
  for (const row of candidates) {
    const version = Number(row.version);
    let references = 0;
    for (const source of CIPHERTEXT_SOURCES) {
      references += await source.count(db, row.tenant_id, version);
      if (references > 0) break;
    }
    if (references > 0) continue;
    const done = await db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('data_keys')
        .set({ retired_at: now.toISOString(), wrapped: '' })
        .where('tenant_id', '=', row.tenant_id)
        .where('version', '=', version)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await auditKeyEvent(trx, audit, {
        tenantId: row.tenant_id,
        at: now,
        action: 'keys.dataKey.retire',
        resource: { type: 'data_key', id: `${row.tenant_id}:v${version}` },
        changes: { fields: ['retiredAt'], secretsChanged: [] },
      });
      return true;
    });
    if (done) {
      retired.push({ tenantId: row.tenant_id, version });
      keyring.forget(row.tenant_id);
    }
  }
  return retired;
}
