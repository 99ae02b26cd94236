import type { ExpressionBuilder } from 'kysely';
import type { Principal } from '../contracts/context.js';
import { LatchkeyError } from '../errors.js';
import type { Database } from '../store/schema.js';

/**
 * Which integrations a principal may see inside its tenant. A key restricted to a
 * workspace sees global records and its workspace's; a key with a user id sees only its
 * own user-scoped records. Anything else is "not found", never "forbidden".
 */
export function canSee(principal: Principal, rec: { scope: string; workspace_id: string | null; owner_user_id: string | null }): boolean {
  if (principal.workspaceId && rec.workspace_id !== null && rec.workspace_id !== principal.workspaceId) return false;
  if (rec.scope === 'user' && principal.userId && rec.owner_user_id !== principal.userId) return false;
  return true;
}

/**
 * Who may change or delete a visible integration: a workspace-restricted key only its own
 * workspace's records, a user-bound key only its own user-scoped records. Seeing a record
 * is not owning it, so this is a 403, not a 404.
 */
export function assertCanManage(principal: Principal, rec: { scope: string; workspace_id: string | null; owner_user_id: string | null }): void {
  if (principal.workspaceId && rec.workspace_id !== principal.workspaceId) {
    throw new LatchkeyError('forbidden', 'a workspace-restricted key can only manage its own workspace\'s integrations');
  }
  if (principal.userId && (rec.scope !== 'user' || rec.owner_user_id !== principal.userId)) {
    throw new LatchkeyError('forbidden', 'a key bound to a user can only manage that user\'s own integrations');
  }
}

/** The same rule as a SQL condition on `integrations`, for lists. */
export function visibleIntegrations(principal: Principal) {
  return (eb: ExpressionBuilder<Database, 'integrations'>) => {
    const conditions = [eb('integrations.tenant_id', '=', principal.tenantId)];
    if (principal.workspaceId) {
      conditions.push(eb.or([eb('integrations.workspace_id', 'is', null), eb('integrations.workspace_id', '=', principal.workspaceId)]));
    }
    if (principal.userId) {
      conditions.push(eb.or([eb('integrations.scope', '!=', 'user'), eb('integrations.owner_user_id', '=', principal.userId)]));
    }
    return eb.and(conditions);
  };
}
