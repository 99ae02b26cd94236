import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { chainedFieldsOf } from './audit-log.js';
import { GENESIS_HASH, chainHash } from './hash-chain.js';

/** One place where a tenant's chain is broken, with the position (sequence number) it was found at. */
export interface ChainFinding {
  seq: number;
  /** The stored event at that position, when there is one. */
  eventId: string | null;
  problem: 'hash_mismatch' | 'broken_link' | 'gap' | 'head_mismatch';
  detail: string;
}

export interface TenantChainReport {
  tenantId: string;
  ok: boolean;
  checked: number;
  headSeq: number;
  findings: ChainFinding[];
}

const BATCH = 1000;

/**
 * Walks a tenant's whole chain and reports every break, not just the first: an edited
 * event (its hash no longer matches its content), deleted events (a gap in the sequence),
 * a reordered or replaced one (it does not link to the event before it), and a truncated
 * tail (the tenant's stored head is past the last event). After each finding the walk
 * resynchronises on the stored event, so one tampered row is one finding. Reads in
 * batches, so a long chain never sits in memory.
 *
 * @example
 * ```ts
 * const report = await reportTenantChain(db, chainKey, 'default');
 * for (const f of report.findings) console.log(f.seq, f.problem, f.detail);
 * ```
 */
export async function reportTenantChain(db: Kysely<Database>, chainKey: Buffer, tenantId: string): Promise<TenantChainReport> {
  const head = await db.selectFrom('tenants').select(['audit_seq', 'audit_head']).where('id', '=', tenantId).executeTakeFirst();
  const findings: ChainFinding[] = [];
  let prev = GENESIS_HASH;
  let expected = 1;
  let checked = 0;
  for (let after = 0; ; ) {
    const rows = await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('seq', '>', after).orderBy('seq').limit(BATCH).execute();
    for (const row of rows) {
      const event = chainedFieldsOf(row);
      checked++;
      let gap = false;
      if (event.seq > expected) {
        gap = true;
        const range = event.seq - 1 === expected ? `event ${expected} is` : `events ${expected}–${event.seq - 1} are`;
        findings.push({ seq: expected, eventId: null, problem: 'gap', detail: `${range} missing (deleted)` });
      }
      // After a gap the link is broken by the deletion itself: one finding, not two.
      if (!gap && event.prevHash !== prev) {
        findings.push({ seq: event.seq, eventId: event.id, problem: 'broken_link', detail: `event ${event.seq} does not follow event ${event.seq - 1} (reordered, replaced or re-inserted)` });
      }
      if (chainHash(event, chainKey) !== event.hash) {
        findings.push({ seq: event.seq, eventId: event.id, problem: 'hash_mismatch', detail: `event ${event.seq} (${event.action} at ${event.at}) was edited: its hash does not match its content` });
      }
      prev = event.hash;
      expected = event.seq + 1;
    }
    if (rows.length < BATCH) break;
    after = Number(rows.at(-1)!.seq);
  }
  const headSeq = Number(head?.audit_seq ?? 0);
  if (head && (headSeq !== expected - 1 || head.audit_head !== prev)) {
    const detail =
      headSeq > expected - 1
        ? `the chain ends at event ${expected - 1} but the tenant's head is event ${headSeq}: events ${expected}–${headSeq} were removed (truncated)`
        : `the tenant's head (event ${headSeq}) does not match the last event ${expected - 1}`;
    findings.push({ seq: Math.min(expected, headSeq + 1), eventId: null, problem: 'head_mismatch', detail });
  }
  return { tenantId, ok: findings.length === 0, checked, headSeq, findings };
}
