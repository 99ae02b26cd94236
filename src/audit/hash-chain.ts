import { createHmac } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** The hash before a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an event's hash covers: everything but the hash itself. */
export interface ChainedFields {
  id: string;
  tenantId: string;
  seq: number;
  at: string;
  actor: unknown;
  action: string;
  resource: unknown;
  outcome: string;
  status: number;
  requestId: string | null;
  ip: string | null;
  changes: unknown;
  prevHash: string;
}

/**
 * HMAC-SHA256, under a key derived from the root key, over the previous hash and the
 * canonical JSON of the event. Keyed, so that someone who can write to the database but
 * does not hold the root key cannot edit an event and re-hash the rest of the chain.
 */
export function chainHash(fields: ChainedFields & { hash?: string }, key: Buffer): string {
  const { hash: _ignored, ...covered } = fields;
  return createHmac('sha256', key).update(fields.prevHash).update('\n').update(canonicalJson(covered)).digest('hex');
}

export interface ChainProblem {
  seq: number;
  problem: 'hash_mismatch' | 'broken_link' | 'gap' | 'head_mismatch';
}

/**
 * Walks events in sequence order and reports the first position where the chain breaks:
 * an edited event (hash mismatch), a deleted or reordered one (gap / broken link), or a
 * truncated tail (the tenant's stored head does not match the last event).
 */
export function verifyChain(
  events: Iterable<ChainedFields & { hash: string }>,
  key: Buffer,
  head?: { seq: number; hash: string },
): { ok: boolean; checked: number; firstProblem: ChainProblem | null } {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (const event of events) {
    checked++;
    if (event.seq !== expectedSeq) return { ok: false, checked, firstProblem: { seq: expectedSeq, problem: 'gap' } };
    if (event.prevHash !== prev) return { ok: false, checked, firstProblem: { seq: event.seq, problem: 'broken_link' } };
    if (chainHash(event, key) !== event.hash) return { ok: false, checked, firstProblem: { seq: event.seq, problem: 'hash_mismatch' } };
    prev = event.hash;
    expectedSeq++;
  }
  if (head && (head.seq !== expectedSeq - 1 || head.hash !== prev)) {
    return { ok: false, checked, firstProblem: { seq: expectedSeq, problem: 'head_mismatch' } };
  }
  return { ok: true, checked, firstProblem: null };
}
