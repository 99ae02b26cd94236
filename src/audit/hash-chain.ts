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

export interface ChainVerdict {
  ok: boolean;
  checked: number;
  firstProblem: ChainProblem | null;
}

/**
 * Checks a chain one event at a time, so a long chain never has to sit in memory: feed
 * events in sequence order to `next` (it returns the verdict at the first problem, else
 * null), then call `end` with the tenant's stored head.
 */
export function chainVerifier(key: Buffer) {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  const fail = (seq: number, problem: ChainProblem['problem']): ChainVerdict => ({ ok: false, checked, firstProblem: { seq, problem } });
  return {
    next(event: ChainedFields & { hash: string }): ChainVerdict | null {
      checked++;
      if (event.seq !== expectedSeq) return fail(expectedSeq, 'gap');
      if (event.prevHash !== prev) return fail(event.seq, 'broken_link');
      if (chainHash(event, key) !== event.hash) return fail(event.seq, 'hash_mismatch');
      prev = event.hash;
      expectedSeq++;
      return null;
    },
    end(head?: { seq: number; hash: string }): ChainVerdict {
      if (head && (head.seq !== expectedSeq - 1 || head.hash !== prev)) return fail(expectedSeq, 'head_mismatch');
      return { ok: true, checked, firstProblem: null };
    },
  };
}

/**
 * Walks events in sequence order and reports the first position where the chain breaks:
 * an edited event (hash mismatch), a deleted or reordered one (gap / broken link), or a
 * truncated tail (the tenant's stored head does not match the last event).
 */
export function verifyChain(events: Iterable<ChainedFields & { hash: string }>, key: Buffer, head?: { seq: number; hash: string }): ChainVerdict {
  const verifier = chainVerifier(key);
  for (const event of events) {
    const problem = verifier.next(event);
    if (problem) return problem;
  }
  return verifier.end(head);
}
