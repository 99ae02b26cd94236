import type { ConnectionRecord } from '../../contracts/integrations/records.js';
import type { ConnectionTable } from '../../store/schema.js';
import { effectiveStatus } from '../connections/connection-rows.js';
import type { ConnectionEventData, EventValue, WebhookEvent, WebhookEventType } from '../../webhooks/webhook-events.js';

/** The parts of a connection an event names (a `ConnectionRecord` has them all). */
export type ConnectionEventSubject = Pick<ConnectionRecord, 'integration' | 'id' | 'uid' | 'provider' | 'status' | 'statusReason'>;

/**
 * The subject of an event about a stored row (a deleted connection, a test's outcome),
 * when no record was built: its identity and its state as the API would show it.
 *
 * @example
 * ```ts
 * connectionEvent('connection.deleted', eventSubjectOf(row, await secrets.names(db, row.uid), now));
 * ```
 */
export function eventSubjectOf(row: ConnectionTable, secretNames: ReadonlySet<string>, now: Date): ConnectionEventSubject {
  return { integration: row.integration_key, id: row.id, uid: row.uid, provider: row.provider, status: effectiveStatus(row, secretNames, now), statusReason: row.status_reason };
}

/**
 * A connection event for `services.webhooks.enqueue`: the connection's identity and state
 * from its record, plus optional non-secret scalars (`errorCode`, `testErrorCode`, …).
 *
 * @example
 * ```ts
 * const record = toConnectionRecord(row, secretNames, catalog, ctx.now);
 * await services.webhooks.enqueue(ctx.db, tenantId, connectionEvent('connection.recovered', record), ctx.now);
 * ```
 */
export function connectionEvent(type: WebhookEventType, subject: ConnectionEventSubject, extra: Record<string, EventValue> = {}): WebhookEvent {
  const data: ConnectionEventData = {
    ...extra,
    integration: subject.integration,
    connectionId: subject.id,
    connectionUid: subject.uid,
    provider: subject.provider,
    status: subject.status,
    statusReason: subject.statusReason,
  };
  return { type, data };
}
