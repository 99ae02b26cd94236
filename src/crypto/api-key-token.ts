import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys are opaque bearer strings (`lk_` + 256 random bits, or an operator-chosen
 * bootstrap key of 32+ characters). Only their SHA-256 is stored. The first 16 hex digits
 * of the hash index the row; the whole hash is then compared in constant time. Keys
 * carry full entropy, so a fast hash is enough (no password stretching needed).
 */
export interface HashedApiKey {
  lookup: string;
  hash: string;
}

export function hashApiKey(token: string): HashedApiKey {
  const hash = createHash('sha256').update(token).digest('hex');
  return { lookup: hash.slice(0, 16), hash };
}

export function generateApiKey(): string {
  return `lk_${randomBytes(32).toString('base64url')}`;
}

export function apiKeyMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(token).hash, 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Shortest key accepted (bootstrap keys are operator-chosen). */
export const MIN_API_KEY_LENGTH = 32;
