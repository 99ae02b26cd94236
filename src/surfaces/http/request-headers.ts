import type { AnyContract } from '../../contracts/define.js';
import { LatchkeyError } from '../../errors.js';

/** The API key from `Authorization: Bearer …` or `X-API-Key`, if any. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? match[1]! : null;
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey.trim() : null;
}

/**
 * `If-Match` as the registry takes it: parsed where the operation honours it
 * (`http.ifMatch`); for a command that does not, only its presence (the registry refuses
 * it with 400, whatever its value); ignored on reads.
 */
export function ifMatchFor(contract: Pick<AnyContract, 'kind' | 'http'>, value: string | string[] | undefined): readonly number[] | '*' | undefined {
  if (value === undefined || contract.kind === 'query') return undefined;
  return contract.http.ifMatch ? parseIfMatch(value) : '*';
}

/** `If-Match: "3"`, `W/"3"`, a list of those, or `*`. Anything else can never match, so it fails the precondition. */
export function parseIfMatch(value: string | string[] | undefined): readonly number[] | '*' | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text.trim() === '*') return '*';
  // RFC 9110 allows a list of ETags: the precondition holds when any of them is current.
  const versions = text.split(',').map((part) => /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(part));
  if (versions.length === 0 || versions.some((m) => m === null)) {
    throw new LatchkeyError('precondition_failed', 'If-Match must be an ETag returned by this API, like "3"');
  }
  return versions.map((m) => Number(m![1]));
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    throw new LatchkeyError('bad_request', 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  return value;
}

export const etagOf = (version: number): string => `"${version}"`;
