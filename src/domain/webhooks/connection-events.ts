import type { ConnectionRecord } from '../../contracts/integrations/records.js';
import type { ConnectionEventData, EventValue, WebhookEvent, WebhookEventType } from '../../webhooks/webhook-events.js';

/** The parts of a connection an event names (a `ConnectionRecord` has them all). */
export type ConnectionEventSubject = Pick<ConnectionRecord, 'integration' | 'id' | 'uid' | 'provider' | 'status' | 'statusReason'>;

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
