/**
 * The events Latchkey sends to webhook endpoints. Each is about one connection; payloads
 * name it and describe its state, and never carry a credential or any other secret.
 */
export const WEBHOOK_EVENT_TYPES = [
  'connection.created',
  'connection.updated',
  'connection.deleted',
  'connection.refresh_failed',
  'connection.recovered',
  'credentials.rotated',
  'connection.test_failed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A scalar or list of strings: all an event's data needs. */
export type EventValue = string | number | boolean | null | string[];

/**
 * What a connection event says about its connection: `integration`, `connectionId`,
 * `connectionUid`, `provider`, `status`, `statusReason`, and extra non-secret fields
 * (e.g. `errorCode`). Build it with `connectionEvent` (src/domain/webhooks/connection-events.ts).
 */
export interface ConnectionEventData {
  integration: string;
  connectionId: string;
  connectionUid: string;
  provider: string;
  status: string;
  statusReason: string | null;
  [extra: string]: EventValue;
}

/** An event as code enqueues it; `data` should be a {@link ConnectionEventData} and must hold no secret. */
export interface WebhookEvent {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** The JSON body of a delivery (Standard Webhooks shape): `data` gains the tenant's id. */
export interface WebhookPayload {
  type: WebhookEventType;
  /** ISO 8601 time the event happened (the change's transaction time). */
  timestamp: string;
  data: Record<string, unknown> & { tenantId: string };
}

/**
 * Field names that would mean a secret is being put into an event. Payloads are built
 * from connection records (which hold none), so this only ever trips on a programming
 * mistake — and then fails the change instead of mailing a credential to a URL.
 */
const SECRET_LIKE = /^(access_?token|refresh_?token|client_?secret|password|passphrase|private_?key|api_?key|token|token_?secret|secret(_?access_?key)?|session_?token|signing_?secret|credentials?|secrets)$/i;

/** Throws when `data` has, at any depth, a field named like a secret (see {@link SECRET_LIKE}). */
export function assertNoSecretFields(data: unknown, depth = 0): void {
  if (depth > 8 || data === null || typeof data !== 'object') return;
  for (const [name, value] of Object.entries(data)) {
    if (SECRET_LIKE.test(name)) throw new Error(`webhook event data must not contain a field named ${name}`);
    assertNoSecretFields(value, depth + 1);
  }
}
