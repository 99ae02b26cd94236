import type { Insertable, Kysely } from 'kysely';
import { newId } from '../ids.js';
import type { Engine } from '../store/database.js';
import { reusableQuery } from '../store/reusable-query.js';
import type { Database } from '../store/schema.js';
import { type ChainedFields, chainHash } from './hash-chain.js';

export interface AuditActor {
  type: 'api_key' | 'system';
  keyId: string | null;
  userId: string | null;
}

export interface AuditInput {
  tenantId: string;
  at: Date;
  actor: AuditActor;
  action: string;
  resource: { type: string; id: string } | null;
  outcome: 'success' | 'denied' | 'error';
  status: number;
  requestId: string | null;
  ip: string | null;
  /** Names only — changed fields and changed secret names, never values — and the caller's stated reason, if asked for one. */
  changes: { fields: string[]; secretsChanged: string[]; reason?: string } | null;
}

/**
 * Appends hash-chained audit events, one chain per tenant. The tenant row holds the head
 * (sequence and hash); appending locks it (PostgreSQL `FOR UPDATE`; SQLite serialises
 * writers), so concurrent instances never fork the chain. Callers pass their transaction:
 * an event that cannot be written rolls the operation back (fail-closed).
 */
// Every write runs these three statements: compiled once (see reusableQuery).
const headOf = (db: Kysely<Database>, tenantId: string) => db.selectFrom('tenants').select(['audit_seq', 'audit_head']).where('id', '=', tenantId);
const chainHead = reusableQuery(headOf);
// NO KEY UPDATE: serialises appenders without conflicting with the KEY SHARE locks
// that foreign keys to the tenant row take (FOR UPDATE would deadlock with them).
const chainHeadLocked = reusableQuery((db: Kysely<Database>, tenantId: string) => headOf(db, tenantId).forNoKeyUpdate());
type EventRow = Insertable<Database['audit_events']>;
const EVENT_COLUMNS = ['id', 'tenant_id', 'seq', 'at', 'actor', 'actor_key_id', 'action', 'resource_type', 'resource_id', 'outcome', 'status', 'request_id', 'ip', 'changes', 'prev_hash', 'hash'] as const;
const insertEventQuery = reusableQuery((db: Kysely<Database>, ...values: unknown[]) =>
  db.insertInto('audit_events').values(Object.fromEntries(EVENT_COLUMNS.map((c, i) => [c, values[i]])) as EventRow),
  EVENT_COLUMNS.length,
);
const insertEvent = (db: Kysely<Database>, row: EventRow) => insertEventQuery(db, ...EVENT_COLUMNS.map((c) => row[c]));
const moveChainHead = reusableQuery((db: Kysely<Database>, seq: number, hash: string, tenantId: string) =>
  db.updateTable('tenants').set({ audit_seq: seq, audit_head: hash }).where('id', '=', tenantId),
);

export class AuditLog {
  /** @param chainKey HMAC key of the hash chain (derived from the root key, see `Keyring.derivedKey`). */
  constructor(
    private readonly engine: Engine,
    readonly chainKey: Buffer,
  ) {}

  async append(trx: Kysely<Database>, input: AuditInput): Promise<string> {
    const [head] = await (this.engine === 'postgres' ? chainHeadLocked : chainHead)(trx, input.tenantId);
    if (!head) throw new Error(`audit: tenant ${input.tenantId} does not exist`);
    const fields: ChainedFields = {
      id: newId('evt', input.at.getTime()),
      tenantId: input.tenantId,
      seq: Number(head.audit_seq) + 1,
      at: input.at.toISOString(),
      actor: input.actor,
      action: input.action,
      resource: input.resource,
      outcome: input.outcome,
      status: input.status,
      requestId: input.requestId,
      ip: input.ip,
      changes: input.changes,
      prevHash: head.audit_head,
    };
    const hash = chainHash(fields, this.chainKey);
    await insertEvent(trx, {
      id: fields.id,
      tenant_id: fields.tenantId,
      seq: fields.seq,
      at: fields.at,
      actor: JSON.stringify(fields.actor),
      actor_key_id: input.actor.keyId,
      action: fields.action,
      resource_type: input.resource?.type ?? null,
      resource_id: input.resource?.id ?? null,
      outcome: fields.outcome,
      status: fields.status,
      request_id: fields.requestId,
      ip: fields.ip,
      changes: fields.changes === null ? null : JSON.stringify(fields.changes),
      prev_hash: fields.prevHash,
      hash,
    });
    await moveChainHead(trx, fields.seq, hash, input.tenantId);
    return fields.id;
  }

  /** Appends in a transaction of its own (for denied and failed calls). */
  async appendAlone(db: Kysely<Database>, input: AuditInput): Promise<void> {
    await db.transaction().execute((trx) => this.append(trx, input));
  }
}

/** Rebuilds the hashed fields from a stored row (for verification and listing). */
export function chainedFieldsOf(row: Database['audit_events']): ChainedFields & { hash: string } {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    seq: Number(row.seq),
    at: row.at,
    actor: JSON.parse(row.actor),
    action: row.action,
    resource: row.resource_type === null ? null : { type: row.resource_type, id: row.resource_id },
    outcome: row.outcome,
    status: Number(row.status),
    requestId: row.request_id,
    ip: row.ip,
    changes: row.changes === null ? null : JSON.parse(row.changes),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
