import type { Kysely } from 'kysely';
import { canonicalJson } from '../audit/canonical-json.js';
import type { Keyring } from '../crypto/keyring.js';
import { LatchkeyError } from '../errors.js';
import type { Database } from './schema.js';

/** How long a key is remembered. */
const RETENTION_MS = 24 * 60 * 60 * 1000;
/** How long an unfinished claim blocks retries before it counts as abandoned (a crashed request). */
const PENDING_LEASE_MS = 60 * 1000;

/**
 * `Idempotency-Key` records, shared by every instance through the database. A key is
 * claimed (`pending`) before the operation runs and completed in the operation's own
 * transaction, so a crash never leaves a completed change without its record. Stored
 * responses are encrypted: some carry a secret shown once (a new API key).
 */
export class IdempotencyStore {
  constructor(private readonly keyring: Keyring) {}

  /**
   * Identifies the request a key was first used with. Keyed (HMAC, see `Keyring.digest`):
   * the input carries secret values, and a plain hash of it in the database would let
   * anyone holding the database confirm a guessed password offline.
   *
   * Pass the caller's API key id as `principalKeyId` so a replay is only ever served to
   * the key that made the request: another key reusing the same `Idempotency-Key` and body
   * then gets "used with a different request" instead of the stored response, which it
   * might not be allowed to see (a replay skips the handler and its checks).
   */
  fingerprint(operation: string, input: unknown, principalKeyId?: string): string {
    return this.keyring.digest('idempotency-fingerprint', canonicalJson([operation, principalKeyId ?? null, input]));
  }

  /** Claims the key; returns the earlier response when this is a replay. */
  async begin(db: Kysely<Database>, tenantId: string, key: string, operation: string, fingerprint: string, now: Date): Promise<unknown | null> {
    const cutoff = new Date(now.getTime() - RETENTION_MS).toISOString();
    await db.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('idem_key', '=', key).where('created_at', '<', cutoff).execute();
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ tenant_id: tenantId, idem_key: key, operation, fingerprint, state: 'pending', status: null, response: null, created_at: now.toISOString() })
      .onConflict((oc) => oc.columns(['tenant_id', 'idem_key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return null;
    const row = await db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', tenantId).where('idem_key', '=', key).executeTakeFirst();
    if (!row) return this.begin(db, tenantId, key, operation, fingerprint, now);
    if (row.fingerprint !== fingerprint || row.operation !== operation) {
      throw new LatchkeyError('validation_failed', 'this Idempotency-Key was already used with a different request', { reason: 'idempotency_key_reused' });
    }
    if (row.state !== 'done' || row.response === null) {
      // A claim older than the lease belongs to a request whose process died: take it over.
      if (Date.parse(row.created_at) < now.getTime() - PENDING_LEASE_MS) {
        const taken = await db
          .updateTable('idempotency_keys')
          .set({ created_at: now.toISOString() })
          .where('tenant_id', '=', tenantId)
          .where('idem_key', '=', key)
          .where('state', '=', 'pending')
          .where('created_at', '=', row.created_at)
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) === 1) return null;
      }
      throw new LatchkeyError('conflict', 'a request with this Idempotency-Key is still in progress', { reason: 'idempotency_in_progress' });
    }
    return JSON.parse(await this.keyring.decrypt(db, this.ref(tenantId, key), row.response));
  }

  async complete(trx: Kysely<Database>, tenantId: string, key: string, output: unknown): Promise<void> {
    const { ciphertext } = await this.keyring.encrypt(trx, this.ref(tenantId, key), JSON.stringify(output));
    await trx.updateTable('idempotency_keys').set({ state: 'done', response: ciphertext }).where('tenant_id', '=', tenantId).where('idem_key', '=', key).execute();
  }

  /**
   * Deletes every record older than the retention (24 h), in every tenant. Without it a
   * key used once would keep its encrypted response — for a new API key, the key itself —
   * for ever. Run periodically (see idempotency-purge.ts); returns how many were deleted.
   */
  async purgeExpired(db: Kysely<Database>, now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - RETENTION_MS).toISOString();
    const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Releases a claim whose operation failed, so the client may retry. */
  async abandon(db: Kysely<Database>, tenantId: string, key: string): Promise<void> {
    await db.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('idem_key', '=', key).where('state', '=', 'pending').execute();
  }

  private ref(tenantId: string, key: string) {
    return { tenantId, kind: 'idempotency' as const, uid: key, field: 'response' };
  }
}
