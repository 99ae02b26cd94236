import type { Kysely } from 'kysely';
import { newId } from '../ids.js';
import type { Database, WebhookDeliveryTable } from '../store/schema.js';
import { type WebhookEvent, type WebhookPayload, assertNoSecretFields } from './webhook-events.js';

/** Rows per INSERT: well under SQLite's bound-parameter limit at 17 columns a row. */
const INSERT_BATCH = 500;

function deliveryRow(tenantId: string, endpointUid: string, eventId: string, type: string, body: string, timestamp: string, at: Date): WebhookDeliveryTable {
  return {
    id: newId('msg', at.getTime()),
    tenant_id: tenantId,
    endpoint_uid: endpointUid,
    event_id: eventId,
    event_type: type,
    payload: body,
    status: 'pending',
    attempts: 0,
    attempt_log: '[]',
    next_attempt_at: timestamp,
    lease_token: null,
    lease_until: null,
    last_status_code: null,
    last_error: null,
    created_at: timestamp,
    updated_at: timestamp,
    completed_at: null,
  };
}

/**
 * The transactional outbox of webhook events. `enqueue` writes one delivery row per
 * subscribed endpoint with the executor it is given — the transaction of the change — so
 * the event exists exactly when the change does: a crash after the commit still delivers
 * it, a rollback never does. The dispatcher picks the rows up from there.
 */
export class WebhookOutbox {
  private readonly listeners = new Set<() => void>();

  /**
   * Enqueues `event` for every enabled endpoint of the tenant subscribed to its type and
   * returns how many deliveries were written (0 when no endpoint listens). Call it inside
   * the handler's transaction with the same executor as the change (`ctx.db` in a command
   * handler); never with the root database while a transaction is open (SQLite has one
   * writer and would wait on it).
   *
   * `data` must not contain a secret: payloads are sent to third-party URLs, shown in
   * delivery listings and kept for the retention period. A field named like one
   * (`accessToken`, `clientSecret`, …) throws.
   *
   * @param db  the transaction of the change (`ctx.db`)
   * @param tenantId  the tenant the connection belongs to
   * @param event  `{ type, data }`: `type` one of `WEBHOOK_EVENT_TYPES`; `data` the
   *   connection (`integration`, `connectionId`, `connectionUid`, `provider`, `status`,
   *   `statusReason`) plus any non-secret scalars (e.g. `errorCode`). See `connectionEvent`
   *   in src/domain/webhooks/connection-events.ts to build it from a record.
   * @param at  when the event happened (defaults to now); its `timestamp`
   *
   * @example
   * ```ts
   * await services.webhooks.enqueue(ctx.db, ctx.principal.tenantId,
   *   connectionEvent('connection.refresh_failed', record, { errorCode: 'invalid_grant' }), ctx.now);
   * ```
   */
  async enqueue(db: Kysely<Database>, tenantId: string, event: WebhookEvent, at: Date = new Date()): Promise<number> {
    return this.enqueueAll(db, tenantId, [event], at);
  }

  /** {@link enqueue} for many events of one tenant (e.g. a cascade delete): one endpoint lookup, batched inserts. */
  async enqueueAll(db: Kysely<Database>, tenantId: string, events: readonly WebhookEvent[], at: Date = new Date()): Promise<number> {
    for (const event of events) assertNoSecretFields(event.data);
    if (events.length === 0) return 0;
    const endpoints = await db
      .selectFrom('webhook_endpoints')
      .select(['uid', 'events'])
      .where('tenant_id', '=', tenantId)
      .where('enabled', '=', 1)
      .execute();
    if (endpoints.length === 0) return 0;
    const timestamp = at.toISOString();
    const rows: WebhookDeliveryTable[] = [];
    for (const event of events) {
      const subscribed = endpoints.filter((e) => (JSON.parse(e.events) as string[]).includes(event.type));
      if (subscribed.length === 0) continue;
      const payload: WebhookPayload = { type: event.type, timestamp, data: { ...event.data, tenantId } };
      const body = JSON.stringify(payload);
      const eventId = newId('wev', at.getTime());
      for (const endpoint of subscribed) rows.push(deliveryRow(tenantId, endpoint.uid, eventId, event.type, body, timestamp, at));
    }
    for (let i = 0; i < rows.length; i += INSERT_BATCH) await db.insertInto('webhook_deliveries').values(rows.slice(i, i + INSERT_BATCH)).execute();
    if (rows.length > 0) for (const listener of this.listeners) listener();
    return rows.length;
  }

  /**
   * Calls `listener` after each enqueue that wrote rows — before the transaction commits,
   * so a listener must only schedule work (the dispatcher runs a pass shortly after).
   * Returns the function that removes it.
   */
  onEnqueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
