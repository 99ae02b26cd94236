import type { Kysely } from 'kysely';
import type { AuditActor, AuditInput, AuditLog } from '../audit/audit-log.js';
import type { Database } from '../store/schema.js';

/** The actor of key work done by the service itself or by an operator's offline CLI command. */
export const systemActor: AuditActor = { type: 'system', keyId: null, userId: null };

/**
 * Appends a system event about key work to a tenant's chain, in the caller's transaction
 * (fail-closed: the key change rolls back if its event cannot be written). Data keys of a
 * tenant row that no longer exists have no chain to write to.
 */
export async function auditKeyEvent(
  trx: Kysely<Database>,
  audit: AuditLog | undefined,
  event: Pick<AuditInput, 'tenantId' | 'at' | 'action' | 'resource' | 'changes'>,
): Promise<void> {
  if (!audit) return;
  const tenant = await trx.selectFrom('tenants').select('id').where('id', '=', event.tenantId).executeTakeFirst();
  if (!tenant) return;
  await audit.append(trx, { ...event, actor: systemActor, outcome: 'success', status: 200, requestId: null, ip: null });
}
