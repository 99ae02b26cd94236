import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { open, seal } from './aead.js';
import type { RootKey } from './root-key.js';

/** What a ciphertext is bound to; a copy under any other ref fails to decrypt. */
export interface SecretRef {
  tenantId: string;
  kind: 'integration' | 'connection' | 'idempotency';
  uid: string;
  field: string;
}

/** Thrown at start-up when the configured root key did not wrap the stored data keys. */
export class RootKeyMismatchError extends Error {
  override readonly name = 'RootKeyMismatchError';
  constructor(readonly configured: string, readonly needed: string[]) {
    super(
      `the configured root key ${configured} cannot unwrap the stored data keys; ` +
        `start with the root key ${needed.join(' or ')}`,
    );
  }
}

/**
 * `lk1.<version>.<base64url>`, version without leading zeros. The body must also be the
 * canonical encoding of its bytes (checked in `decrypt`): base64url ignores the spare low
 * bits of its last character, so without that check one ciphertext would have several
 * accepted spellings, and a changed envelope would still decrypt.
 */
const ENVELOPE = /^lk1\.([1-9]\d{0,8})\.([A-Za-z0-9_-]+)$/;
const aadOf = (ref: SecretRef): Buffer =>
  Buffer.from(JSON.stringify(['latchkey.secret.v1', ref.tenantId, ref.kind, ref.uid, ref.field]));
const wrapAad = (tenantId: string, version: number): Buffer =>
  Buffer.from(JSON.stringify(['latchkey.data-key.v1', tenantId, version]));

interface TenantKeys {
  current: number;
  byVersion: Map<number, Buffer>;
  loadedAt: number;
}

/** How long unwrapped data keys are trusted before the current version is read again. */
const CACHE_TTL_MS = 60_000;

/**
 * Envelope encryption: one random data key per tenant (and version), wrapped by the root
 * key. Ciphertexts are `lk1.<data-key version>.<base64url(nonce‖ct‖tag)>`.
 *
 * Every method takes the query executor to use, so callers inside a transaction pass
 * the transaction (SQLite has one connection; a second one would wait on the first).
 */
export class Keyring {
  private readonly cache = new Map<string, TenantKeys>();
  private readonly digestKeys = new Map<string, Buffer>();

  constructor(
    private readonly root: RootKey,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads every tenant's data keys outside any transaction, so writes start with a warm cache. */
  async warm(db: Kysely<Database>): Promise<void> {
    const tenants = await db.selectFrom('data_keys').select('tenant_id').distinct().execute();
    for (const { tenant_id } of tenants) await this.keysOf(db, tenant_id);
  }

  get rootKeyId(): string {
    return this.root.id;
  }

  /**
   * A keyed digest (HMAC-SHA256 under a key derived from the root key for `purpose`), for
   * values that must be compared later but may contain secrets, such as the fingerprint
   * of a request body. Unlike a plain hash, it cannot be used to confirm a guessed secret
   * by anyone holding only the database.
   */
  digest(purpose: string, data: string): string {
    return createHmac('sha256', this.derivedKey(purpose)).update(data, 'utf8').digest('hex');
  }

  /** A 256-bit key derived from the root key (HKDF-SHA256) for one purpose, e.g. the audit chain. */
  derivedKey(purpose: string): Buffer {
    let key = this.digestKeys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.root.key, Buffer.alloc(0), `latchkey.digest.v1:${purpose}`, 32));
      this.digestKeys.set(purpose, key);
    }
    return key;
  }

  /** Refuses a root key that did not wrap the stored data keys, naming the one needed. */
  async verifyRootKey(db: Kysely<Database>): Promise<void> {
    const rows = await db.selectFrom('data_keys').select(['root_key_id']).distinct().execute();
    const foreign = rows.map((r) => r.root_key_id).filter((id) => id !== this.root.id);
    if (foreign.length > 0) throw new RootKeyMismatchError(this.root.id, foreign);
    const sample = await db.selectFrom('data_keys').selectAll().limit(1).executeTakeFirst();
    if (sample) {
      try {
        open(this.root.key, Buffer.from(sample.wrapped, 'base64url'), wrapAad(sample.tenant_id, sample.version));
      } catch {
        throw new RootKeyMismatchError(this.root.id, [sample.root_key_id]);
      }
    }
  }

  /** Creates the tenant's first data key (idempotent across instances). */
  async ensureTenantKey(db: Kysely<Database>, tenantId: string, now: string): Promise<void> {
    const existing = await db.selectFrom('data_keys').select('version').where('tenant_id', '=', tenantId).executeTakeFirst();
    if (existing) return;
    const wrapped = seal(this.root.key, randomBytes(32), wrapAad(tenantId, 1)).toString('base64url');
    await db
      .insertInto('data_keys')
      .values({ tenant_id: tenantId, version: 1, root_key_id: this.root.id, wrapped, created_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'version']).doNothing())
      .execute();
  }

  /**
   * Adds a new data key version for the tenant and makes it the one new ciphertexts use.
   * Older versions stay in `data_keys`, so everything sealed under them keeps decrypting;
   * re-encrypting old ciphertexts is a separate step. Returns the new version.
   *
   * @example
   * ```ts
   * const version = await keyring.rotateTenantKey(db, 'default', new Date().toISOString());
   * ```
   */
  async rotateTenantKey(db: Kysely<Database>, tenantId: string, now: string): Promise<number> {
    const latest = await db
      .selectFrom('data_keys')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    const version = Number(latest?.version ?? 0) + 1;
    const wrapped = seal(this.root.key, randomBytes(32), wrapAad(tenantId, version)).toString('base64url');
    // A concurrent rotation that took this version makes the insert fail: no key is lost.
    await db.insertInto('data_keys').values({ tenant_id: tenantId, version, root_key_id: this.root.id, wrapped, created_at: now }).execute();
    this.cache.delete(tenantId);
    return version;
  }

  private async keysOf(db: Kysely<Database>, tenantId: string, version?: number): Promise<TenantKeys> {
    const cached = this.cache.get(tenantId);
    const fresh = cached !== undefined && this.now() - cached.loadedAt < CACHE_TTL_MS;
    if (cached && (fresh || db.isTransaction) && (version === undefined || cached.byVersion.has(version))) return cached;
    const rows = await db.selectFrom('data_keys').selectAll().where('tenant_id', '=', tenantId).execute();
    if (rows.length === 0) throw new Error(`tenant ${tenantId} has no data key`);
    const byVersion = new Map<number, Buffer>();
    for (const row of rows) {
      if (row.root_key_id !== this.root.id) throw new RootKeyMismatchError(this.root.id, [row.root_key_id]);
      byVersion.set(row.version, open(this.root.key, Buffer.from(row.wrapped, 'base64url'), wrapAad(tenantId, row.version)));
    }
    const keys = { current: Math.max(...byVersion.keys()), byVersion, loadedAt: this.now() };
    // Only committed rows are cached: a key read inside a transaction may be one that the
    // transaction created and is about to roll back. The TTL picks up rotations made by
    // other instances.
    if (!db.isTransaction) this.cache.set(tenantId, keys);
    return keys;
  }

  async encrypt(db: Kysely<Database>, ref: SecretRef, plaintext: string): Promise<{ ciphertext: string; keyVersion: number }> {
    const keys = await this.keysOf(db, ref.tenantId);
    const key = keys.byVersion.get(keys.current)!;
    const sealed = seal(key, Buffer.from(plaintext, 'utf8'), aadOf(ref));
    return { ciphertext: `lk1.${keys.current}.${sealed.toString('base64url')}`, keyVersion: keys.current };
  }

  async decrypt(db: Kysely<Database>, ref: SecretRef, ciphertext: string): Promise<string> {
    const match = ENVELOPE.exec(ciphertext);
    if (!match) throw new Error('not a Latchkey ciphertext');
    const version = Number(match[1]);
    const sealed = Buffer.from(match[2]!, 'base64url');
    if (sealed.toString('base64url') !== match[2]) throw new Error('not a Latchkey ciphertext');
    const keys = await this.keysOf(db, ref.tenantId, version);
    const key = keys.byVersion.get(version);
    if (!key) throw new Error(`data key version ${version} of tenant ${ref.tenantId} is missing`);
    return open(key, sealed, aadOf(ref)).toString('utf8');
  }
}
