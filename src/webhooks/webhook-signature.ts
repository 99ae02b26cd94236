import { createHmac } from 'node:crypto';
import { signingKeyOf } from './signing-secret.js';

/**
 * The `webhook-signature` value of Standard Webhooks: `v1,` and the base64 HMAC-SHA256,
 * under the base64-decoded secret, of `<webhook-id>.<webhook-timestamp>.<body>`.
 *
 * @example
 * ```ts
 * signatureOf('whsec_…', 'msg_0193…', 1735689600, '{"type":"connection.created",…}'); // 'v1,K5oZ…='
 * ```
 */
export function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', signingKeyOf(secret)).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/**
 * The three Standard Webhooks headers for one attempt. The id stays the same on every
 * retry (receivers deduplicate on it); the timestamp and signature are made per attempt.
 */
export function webhookHeaders(secret: string, id: string, at: Date, body: string): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureOf(secret, id, timestamp, body),
  };
}
