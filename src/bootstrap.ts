import type { AuditLog } from './audit/audit-log.js';
import type { Keyring } from './crypto/keyring.js';
import { isUniqueViolation } from './domain/db-errors.js';
import { createTenantWithAdmin } from './domain/access/tenant-bootstrap.js';
import type { Store } from './store/database.js';

/** The operator tenant created on first start. */
export const DEFAULT_TENANT_ID = 'default';

/**
 * On an empty database: creates the default (operator) tenant and its first admin key —
 * the configured bootstrap key, or a random one — and returns the key so it can be shown
 * once. Several instances starting together create it exactly once.
 */
export async function bootstrapFirstTenant(store: Store, keyring: Keyring, audit: AuditLog, bootstrapKey: string | undefined): Promise<{ adminKey: string } | null> {
  const any = await store.db.selectFrom('tenants').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  try {
    return await store.db.transaction().execute(async (trx) => {
      const now = new Date();
      const created = await createTenantWithAdmin(trx, keyring, {
        name: 'Default',
        isPlatform: true,
        now,
        createdBy: null,
        tenantId: DEFAULT_TENANT_ID,
        ...(bootstrapKey ? { adminKey: bootstrapKey } : {}),
      });
      await audit.append(trx, {
        tenantId: DEFAULT_TENANT_ID,
        at: now,
        actor: { type: 'system', keyId: null, userId: null },
        action: 'system.bootstrap',
        resource: { type: 'api_key', id: created.adminKeyId },
        outcome: 'success',
        status: 201,
        requestId: null,
        ip: null,
        changes: { fields: ['tenant', 'apiKey'], secretsChanged: [] },
      });
      return { adminKey: created.adminKey };
    });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}
