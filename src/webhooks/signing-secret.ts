import { randomBytes } from 'node:crypto';

/** Standard Webhooks secrets are `whsec_` followed by the base64 of the key bytes. */
export const SIGNING_SECRET_PREFIX = 'whsec_';
const KEY_BYTES = 32;

/**
 * A new endpoint signing secret: 32 random bytes, `whsec_<base64>`.
 *
 * @example
 * ```ts
 * newSigningSecret(); // 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw…'
 * ```
 */
export function newSigningSecret(): string {
  return `${SIGNING_SECRET_PREFIX}${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** The HMAC key of a secret: the base64-decoded part after `whsec_`. */
export function signingKeyOf(secret: string): Buffer {
  if (!secret.startsWith(SIGNING_SECRET_PREFIX)) throw new Error('not a webhook signing secret');
  const key = Buffer.from(secret.slice(SIGNING_SECRET_PREFIX.length), 'base64');
  if (key.length < 24) throw new Error('webhook signing secret is too short');
  return key;
}
