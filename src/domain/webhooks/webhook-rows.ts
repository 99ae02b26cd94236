import type { Kysely } from 'kysely';
import type { Principal } from '../../contracts/context.js';
import type { WebhookEndpointRecord } from '../../contracts/webhooks/webhook-contracts.js';
import { LatchkeyError, notFound } from '../../errors.js';
import type { Engine } from '../../store/database.js';
import type { Database, WebhookDeliveryTable, WebhookEndpointTable } from '../../store/schema.js';
import type { AttemptRecord } from '../../webhooks/delivery-claims.js';
import type { WebhookEventType, WebhookPayload } from '../../webhooks/webhook-events.js';

/**
 * Endpoints receive events about every connection of the tenant, so only keys that see the
 * whole tenant may manage them: a key bound to a workspace or user would otherwise learn of
 * other workspaces' connections through its endpoint.
 */
export function assertTenantWide(principal: Principal): void {
  if (principal.workspaceId || principal.userId) {
    throw new LatchkeyError('forbidden', 'webhook endpoints receive events of the whole tenant: use a key not bound to a workspace or user');
  }
}

/**
 * An endpoint of the principal's tenant, or 404 (also for other tenants' ids). With
 * `engine: 'postgres'` the row is locked for the write that follows: `update` takes the
 * no-key lock, which does not wait for changes enqueueing deliveries to the endpoint (their
 * foreign key holds a key-share lock on it); `delete` takes the full lock.
 */
export async function loadEndpoint(db: Kysely<Database>, principal: Principal, id: string, lock?: { engine: Engine; for: 'update' | 'delete' }): Promise<WebhookEndpointTable> {
  let query = db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', principal.tenantId).where('uid', '=', id);
  if (lock?.engine === 'postgres') query = lock.for === 'update' ? query.forNoKeyUpdate() : query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound(`Webhook endpoint "${id}"`);
  return row;
}

export function toEndpointRecord(row: WebhookEndpointTable): WebhookEndpointRecord {
  return {
    id: row.uid,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    description: row.description,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    version: Number(row.version),
  };
}

export function toDeliveryRecord(row: WebhookDeliveryTable) {
  const attempts = JSON.parse(row.attempt_log) as AttemptRecord[];
  return {
    id: row.id,
    endpointId: row.endpoint_uid,
    eventId: row.event_id,
    eventType: row.event_type as WebhookEventType,
    status: row.status as 'pending' | 'succeeded' | 'failed',
    attemptCount: Number(row.attempts),
    attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    payload: JSON.parse(row.payload) as WebhookPayload,
  };
}
