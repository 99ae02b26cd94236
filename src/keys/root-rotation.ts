import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import { type Keyring, dataKeyAad, systemKeyAad } from '../crypto/keyring.js';
import type { Database } from '../store/schema.js';
import { auditKeyEvent } from './system-audit.js';

export interface RootRotation {
  previousKeyId: string;
  keyId: string;
  /** Wrapped keys (data keys and system secrets) moved to the new version. */
  rewrapped: number;
  /** Root key versions nothing is wrapped under any more (marked retired in `root_keys`). */
  retiredKeyIds: string[];
}

/**
 * Makes `keyId` the root key version that wraps new keys. Every instance reads it from
 * `root_keys` before wrapping, so they agree from the moment this commits.
 */
export async function recordCurrentRootKey(db: Kysely<Database>, keyId: string, provider: string, now: Date): Promise<void> {
  const top = await db.selectFrom('root_keys').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
  const seq = Number(top?.seq ?? 0) + 1;
  const existing = await db.selectFrom('root_keys').select('id').where('id', '=', keyId).executeTakeFirst();
  if (existing) await db.updateTable('root_keys').set({ seq, retired_at: null }).where('id', '=', keyId).execute();
  else await db.insertInto('root_keys').values({ id: keyId, provider, seq, created_at: now.toISOString(), retired_at: null }).execute();
}

/**
 * Moves every wrapped key not yet under `keyId` to it (the provider rewraps: Vault without
 * disclosing the keys). Each row changes only if it still holds what was read (a
 * concurrent rotation or rewrap wins). Runs in the caller's transaction when given one,
 * else row by row, online.
 */
export async function rewrapAll(db: Kysely<Database>, keyring: Keyring, keyId: string): Promise<number> {
  let rewrapped = 0;
  // A second pass catches keys created meanwhile by an instance that had not seen the new version yet.
  for (let pass = 0; pass < 3; pass++) {
    const dataKeys = await db
      .selectFrom('data_keys')
      .select(['tenant_id', 'version', 'root_key_id', 'wrapped'])
      .where('root_key_id', '!=', keyId)
      .where('retired_at', 'is', null)
      .execute();
    const systemKeys = await db.selectFrom('system_keys').selectAll().where('root_key_id', '!=', keyId).execute();
    if (dataKeys.length + systemKeys.length === 0) break;
    for (const row of dataKeys) {
      const wrapped = await keyring.provider.rewrap(row.root_key_id, row.wrapped, keyId, dataKeyAad(row.tenant_id, Number(row.version)));
      const result = await db
        .updateTable('data_keys')
        .set({ root_key_id: keyId, wrapped })
        .where('tenant_id', '=', row.tenant_id)
        .where('version', '=', row.version)
        .where('wrapped', '=', row.wrapped)
        .executeTakeFirst();
      rewrapped += Number(result.numUpdatedRows);
    }
    for (const row of systemKeys) {
      const wrapped = await keyring.provider.rewrap(row.root_key_id, row.wrapped, keyId, systemKeyAad(row.name));
      const result = await db.updateTable('system_keys').set({ root_key_id: keyId, wrapped }).where('name', '=', row.name).where('wrapped', '=', row.wrapped).executeTakeFirst();
      rewrapped += Number(result.numUpdatedRows);
    }
  }
  return rewrapped;
}

/** Marks retired every root key version (but the current one) that nothing is wrapped under. */
export async function retireUnusedRootKeys(db: Kysely<Database>, currentId: string, now: Date): Promise<string[]> {
  const rows = await db.selectFrom('root_keys').select('id').where('retired_at', 'is', null).where('id', '!=', currentId).execute();
  const retired: string[] = [];
  for (const { id } of rows) {
    const data = await db.selectFrom('data_keys').select('tenant_id').where('root_key_id', '=', id).where('retired_at', 'is', null).limit(1).executeTakeFirst();
    const system = await db.selectFrom('system_keys').select('name').where('root_key_id', '=', id).limit(1).executeTakeFirst();
    if (data || system) continue;
    await db.updateTable('root_keys').set({ retired_at: now.toISOString() }).where('id', '=', id).execute();
    retired.push(id);
  }
  return retired;
}

/**
 * Root key rotation: a new root key version (from the provider: a configured newer key, a
 * new line in the key file, or a Vault key rotation) becomes current, every data key and
 * system secret is rewrapped under it, and versions nothing uses any more are retired.
 * Data keys themselves do not change, so no secret is re-encrypted and the service keeps
 * serving throughout. Pass `newKeyId` when the version was already created (the HTTP
 * operation creates it before its transaction).
 *
 * @example
 * ```ts
 * const { keyId, rewrapped } = await rotateRootKey(store.db, keyring, { now: new Date() });
 * ```
 */
export async function rotateRootKey(
  db: Kysely<Database>,
  keyring: Keyring,
  opts: { now: Date; audit?: AuditLog; newKeyId?: string },
): Promise<RootRotation> {
  const previousKeyId = await keyring.currentRootKeyId(db);
  const keyId = opts.newKeyId ?? (await keyring.provider.createVersion(previousKeyId));
  if (keyId === previousKeyId) throw new Error(`root key ${keyId} is already current; the provider offered no newer version`);
  if (!(await keyring.provider.has(keyId))) throw new Error(`root key ${keyId} is not available from ${keyring.provider.describe()}`);
  await recordCurrentRootKey(db, keyId, keyring.provider.kind, opts.now);
  const rewrapped = await rewrapAll(db, keyring, keyId);
  const retiredKeyIds = await retireUnusedRootKeys(db, keyId, opts.now);
  if (opts.audit) {
    const platforms = await db.selectFrom('tenants').select('id').where('is_platform', '=', 1).execute();
    const record = async (trx: Kysely<Database>) => {
      for (const { id } of platforms) {
        await auditKeyEvent(trx, opts.audit, {
          tenantId: id,
          at: opts.now,
          action: 'keys.rootKey.rotate',
          resource: { type: 'root_key', id: keyId },
          changes: { fields: ['rootKeyId'], secretsChanged: [] },
        });
      }
    };
    if (db.isTransaction) await record(db);
    else await db.transaction().execute(record);
  }
  keyring.useRootKey(keyId);
  return { previousKeyId, keyId, rewrapped, retiredKeyIds };
}
