import type { Kysely } from 'kysely';
import type { Keyring, SecretRef } from '../crypto/keyring.js';
import type { SecretPlan } from '../domain/carry-forward.js';
import { reusableQuery } from './reusable-query.js';
import type { Database } from './schema.js';

/** One owner's stored secrets (the hot read of minting, the proxy and tests). */
const secretsOf = reusableQuery((db: Kysely<Database>, ownerUid: string, tenantId: string) =>
  db.selectFrom('secrets').selectAll().where('owner_uid', '=', ownerUid).where('tenant_id', '=', tenantId),
);

type Kind = SecretRef['kind'];

/**
 * The only place secret values touch the database: one row per (record, field), each
 * value AES-GCM-encrypted under the tenant's data key and bound to its record and field.
 */
export class SecretStore {
  constructor(private readonly keyring: Keyring) {}

  async names(db: Kysely<Database>, ownerUid: string): Promise<Set<string>> {
    const rows = await db.selectFrom('secrets').select('field').where('owner_uid', '=', ownerUid).execute();
    return new Set(rows.map((r) => r.field));
  }

  /** Names per owner for a page of records, in one query. */
  async namesMany(db: Kysely<Database>, ownerUids: string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>(ownerUids.map((uid) => [uid, new Set<string>()]));
    if (ownerUids.length === 0) return out;
    const rows = await db.selectFrom('secrets').select(['owner_uid', 'field']).where('owner_uid', 'in', ownerUids).execute();
    for (const row of rows) out.get(row.owner_uid)?.add(row.field);
    return out;
  }

  /** Applies a carry-forward plan: writes replaced values, deletes removed ones. */
  async apply(db: Kysely<Database>, tenantId: string, kind: Kind, ownerUid: string, plan: SecretPlan, now: string): Promise<void> {
    const fields = Object.entries(plan.set);
    // One use count for the record's fields (a single statement on the data key's row).
    const sealed = await this.keyring.encryptMany(
      db,
      tenantId,
      fields.map(([field, value]) => ({ ref: { tenantId, kind, uid: ownerUid, field }, plaintext: value })),
    );
    for (const [i, [field]] of fields.entries()) {
      const { ciphertext, keyVersion } = sealed[i]!;
      await db
        .insertInto('secrets')
        .values({ owner_uid: ownerUid, field, tenant_id: tenantId, owner_kind: kind, key_version: keyVersion, ciphertext, updated_at: now })
        .onConflict((oc) => oc.columns(['owner_uid', 'field']).doUpdateSet({ ciphertext, key_version: keyVersion, updated_at: now }))
        .execute();
    }
    if (plan.remove.length > 0) {
      await db.deleteFrom('secrets').where('owner_uid', '=', ownerUid).where('field', 'in', plan.remove).execute();
    }
  }

  /** Decrypts every secret of a record (for runtime use: tests, proxy, refresh). */
  async read(db: Kysely<Database>, tenantId: string, kind: Kind, ownerUid: string): Promise<Record<string, string>> {
    const rows = await secretsOf(db, ownerUid, tenantId);
    const out: Record<string, string> = {};
    for (const row of rows) out[row.field] = await this.keyring.decrypt(db, { tenantId, kind, uid: ownerUid, field: row.field }, row.ciphertext);
    return out;
  }

  async removeAll(db: Kysely<Database>, ownerUids: string[]): Promise<void> {
    if (ownerUids.length > 0) await db.deleteFrom('secrets').where('owner_uid', 'in', ownerUids).execute();
  }
}
