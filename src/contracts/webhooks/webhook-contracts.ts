import { webhookResource } from '../audit-resources.js';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/webhook-events.js';
import { endpointUrlProblem } from '../../webhooks/endpoint-url-form.js';
import { defineCommand, defineQuery } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { OpaqueId, PageInput, Timestamp, pageOf } from '../shared-schemas.js';

const meta = metaFor(OWNERS.webhooks, ['webhooks']);

export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export const WebhookId = OpaqueId.describe('The endpoint\'s id (whk_…)');

const EndpointUrl = z
  .string()
  .min(1)
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = endpointUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('Where events are POSTed: an http(s) URL; private and loopback addresses are refused unless the operator allows them');

const Events = z
  .array(WebhookEventType)
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((events) => new Set(events).size === events.length, 'must not repeat an event type')
  .describe('The event types this endpoint receives');

/** A webhook endpoint as every surface shows it. Its signing secret is never part of it. */
export const WebhookEndpointRecord = z.object({
  id: WebhookId,
  url: z.string(),
  events: z.array(WebhookEventType),
  description: z.string().nullable(),
  enabled: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  createdBy: z.string().nullable(),
  updatedBy: z.string().nullable(),
  version: z.number().int(),
});
export type WebhookEndpointRecord = z.infer<typeof WebhookEndpointRecord>;

export const DeliveryStatus = z.enum(['pending', 'succeeded', 'failed']);

/** One event for one endpoint and its attempts. The payload holds no secrets (none are ever put in one). */
export const WebhookDeliveryRecord = z.object({
  id: z.string().describe('Sent as webhook-id; the same on every attempt'),
  endpointId: WebhookId,
  eventId: z.string(),
  eventType: WebhookEventType,
  status: DeliveryStatus,
  attemptCount: z.number().int(),
  attempts: z.array(
    z.object({
      number: z.number().int(),
      at: Timestamp,
      statusCode: z.number().int().nullable(),
      error: z.string().nullable(),
      durationMs: z.number(),
    }),
  ),
  nextAttemptAt: Timestamp.nullable().describe('When the next attempt is due; null once succeeded or failed'),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: Timestamp,
  completedAt: Timestamp.nullable(),
  payload: z.object({ type: WebhookEventType, timestamp: Timestamp, data: z.record(z.string(), z.unknown()) }),
});

const manage = { auth: 'key' as const, policies: [policy('platform.webhook.manage')] };

export const CreateWebhookEndpoint = defineCommand({
  meta: meta(
    'webhooks.endpoint.create',
    'Create webhook endpoint',
    'Register a URL that receives connection events, signed per Standard Webhooks; the signing secret is returned once.',
    'Learn at once when a connection is created, changes, breaks or recovers, instead of polling.',
    'Deliveries carry webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 with the whsec_ secret). Store the secret now: it is never shown again.',
  ),
  io: {
    input: z.strictObject({
      url: EndpointUrl,
      events: Events,
      description: z.string().max(500).optional(),
      enabled: z.boolean().default(true),
    }),
    output: WebhookEndpointRecord.extend({ secret: z.string().describe('The signing secret (whsec_…), shown once') }),
    errors: ['validation_failed'],
  },
  policy: manage,
  http: { method: 'POST', path: '/v1/webhooks', successStatus: 201 },
});

export const ListWebhookEndpoints = defineQuery({
  meta: meta(
    'webhooks.endpoint.list',
    'List webhook endpoints',
    'List the tenant\'s webhook endpoints, without their signing secrets.',
    'See where connection events go.',
    'Cursor-paginated in creation order.',
  ),
  io: { input: z.strictObject({ ...PageInput }), output: pageOf(WebhookEndpointRecord), errors: ['validation_failed'] },
  policy: manage,
  http: { method: 'GET', path: '/v1/webhooks', query: ['limit', 'cursor'] },
});

export const GetWebhookEndpoint = defineQuery({
  meta: meta('webhooks.endpoint.get', 'Get webhook endpoint', 'Get one webhook endpoint, without its signing secret.', 'Check an endpoint\'s URL, events and state.', 'The secret is shown only when the endpoint is created.'),
  io: { input: z.strictObject({ id: WebhookId }), output: WebhookEndpointRecord, errors: ['not_found'] },
  policy: manage,
  http: { method: 'GET', path: '/v1/webhooks/{id}' },
});

export const UpdateWebhookEndpoint = defineCommand({
  meta: meta(
    'webhooks.endpoint.update',
    'Update webhook endpoint',
    'Change an endpoint\'s URL, events, description or enabled state.',
    'Point events somewhere else, or pause them, without losing the endpoint\'s secret.',
    'Partial update; honours If-Match. A disabled endpoint receives nothing new; its pending deliveries wait until it is enabled again.',
  ),
  io: {
    input: z.strictObject({
      id: WebhookId,
      url: EndpointUrl.optional(),
      events: Events.optional(),
      description: z.string().max(500).nullable().optional().describe('null removes it'),
      enabled: z.boolean().optional(),
    }),
    output: WebhookEndpointRecord,
    errors: ['not_found', 'validation_failed', 'precondition_failed'],
  },
  policy: manage,
  http: { method: 'PATCH', path: '/v1/webhooks/{id}', ifMatch: true },
  audit: webhookResource,
});

export const DeleteWebhookEndpoint = defineCommand({
  meta: meta(
    'webhooks.endpoint.delete',
    'Delete webhook endpoint',
    'Delete an endpoint, its signing secret and its deliveries.',
    'Stop sending events to a URL.',
    'Pending deliveries are dropped with it; honours If-Match.',
  ),
  io: {
    input: z.strictObject({ id: WebhookId }),
    output: z.object({ id: WebhookId, deleted: z.literal(true) }),
    errors: ['not_found', 'precondition_failed'],
  },
  policy: manage,
  http: { method: 'DELETE', path: '/v1/webhooks/{id}', ifMatch: true },
  audit: webhookResource,
});

export const ListWebhookDeliveries = defineQuery({
  meta: meta(
    'webhooks.delivery.list',
    'List webhook deliveries',
    'List an endpoint\'s deliveries, newest first: status, every attempt with its status code and time, and the next attempt.',
    'Find out whether a receiver got an event, and why not.',
    'Failed attempts are retried with exponential backoff and jitter up to a limit, then marked failed. Finished deliveries are kept for 30 days.',
  ),
  io: {
    input: z.strictObject({ id: WebhookId, ...PageInput, status: DeliveryStatus.optional() }),
    output: pageOf(WebhookDeliveryRecord),
    errors: ['not_found', 'validation_failed'],
  },
  policy: manage,
  http: { method: 'GET', path: '/v1/webhooks/{id}/deliveries', query: ['limit', 'cursor', 'status'] },
});
