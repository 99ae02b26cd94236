import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RootKeyProvider } from '../keys/root-key-provider.js';
import { localRootKeyProvider } from '../keys/providers/local-provider.js';
import type { Database } from '../store/schema.js';
import { open, seal } from './aead.js';
import type { RootKey } from './root-key.js';

/**
 * What a ciphertext is bound to; a copy under any other ref fails to decrypt. A table that
 * stores keyring ciphertexts must also be listed in src/keys/ciphertext-sources.ts, or
 * re-encryption skips it and retiring an old data-key version would lose its values.
 */
export interface SecretRef {
  tenantId: string;
  kind: 'integration' | 'connection' | 'idempotency' | 'connect_session' | 'webhook';
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

/** Thrown when a data key has been used as often as AES-GCM with random nonces safely allows. */
export class DataKeyExhaustedError extends Error {
  override readonly name = 'DataKeyExhaustedError';
}

/**
 * `lk1.<version>.<base64url>`, version without leading zeros. The body must also be the
 * canonical encoding of its bytes (checked in `decrypt`): base64url ignores the spare low
 * bits of its last character, so without that check one ciphertext would have several
 * accepted spellings, and a changed envelope would still decrypt.
 */
const ENVELOPE = /^lk1\.([1-9]\d{0,8})\.([A-Za-z0-9_-]+)$/;
/** The associated data a secret's ciphertext is bound to, as text (for re-encryption off the main thread). */
export const secretAadText = (ref: SecretRef): string => JSON.stringify(['latchkey.secret.v1', ref.tenantId, ref.kind, ref.uid, ref.field]);
const aadOf = (ref: SecretRef): Buffer => Buffer.from(secretAadText(ref));

/** The associated data a tenant's wrapped data key is bound to (tenant and version). */
export const dataKeyAad = (tenantId: string, version: number): Buffer => Buffer.from(JSON.stringify(['latchkey.data-key.v1', tenantId, version]));
/** The associated data of a wrapped system secret. */
export const systemKeyAad = (name: string): Buffer => Buffer.from(JSON.stringify(['latchkey.system-key.v1', name]));

/** The data-key version a ciphertext names, or null when it is not a Latchkey ciphertext. */
export function envelopeVersion(ciphertext: string): number | null {
  const match = ENVELOPE.exec(ciphertext);
  return match ? Number(match[1]) : null;
}

/**
 * AES-GCM with random 96-bit nonces stays safe for 2^32 encryptions per key (NIST SP
 * 800-38D §8.3). A version is rotated automatically once it reaches 90% of that; past
 * the full limit it refuses to encrypt at all.
 */
export const MAX_ENCRYPTIONS_PER_KEY = 2 ** 32;
export const DEFAULT_ROTATE_AT_ENCRYPTIONS = Math.floor(0.9 * 2 ** 32);

/** The secret audit-chain and digest keys derive from (see `Keyring.derivedKey`). */
const DERIVATION_SECRET = 'derivation';

interface TenantKeys {
  current: number;
  byVersion: Map<number, Buffer>;
  loadedAt: number;
}

/** How long unwrapped data keys are trusted before the current version is read again. */
const CACHE_TTL_MS = 60_000;

export interface KeyringOptions {
  now?: () => number;
  /** Encryptions after which a data-key version is rotated automatically (default 0.9 × 2^32). */
  rotateAtEncryptions?: number;
}

/** Told of every encryption and decryption (for metrics); never given values or ids. */
export type KeyUseListener = (operation: 'encrypt' | 'decrypt', kind: SecretRef['kind'], count: number) => void;

const isProvider = (value: RootKey | RootKeyProvider): value is RootKeyProvider => typeof (value as RootKeyProvider).wrap === 'function';

/**
 * Envelope encryption: per tenant, versioned random data keys, each wrapped by a root key
 * version from a {@link RootKeyProvider}. Ciphertexts are
 * `lk1.<data-key version>.<base64url(nonce‖ct‖tag)>`.
 *
 * Each encryption counts against its data-key version in the same statement that checks
 * the version is still current (`superseded_at is null`), inside the caller's transaction:
 * the count survives restarts and rolls back with the write, and no instance — however
 * stale its cache — can seal under a version that a rotation has superseded. That is what
 * lets re-encryption finish with nothing left behind and retire old versions safely.
 *
 * Every method takes the query executor to use, so callers inside a transaction pass
 * the transaction (SQLite has one connection; a second one would wait on the first).
 *
 * @example
 * ```ts
 * const keyring = new Keyring(provider);
 * await keyring.open(db);
 * const { ciphertext } = await keyring.encrypt(db, { tenantId, kind: 'connection', uid, field: 'apiKey' }, value);
 * ```
 */
export class Keyring {
  readonly provider: RootKeyProvider;
  private readonly cache = new Map<string, TenantKeys>();
  private readonly digestKeys = new Map<string, Buffer>();
  private readonly now: () => number;
  private readonly rotateAt: number;
  private currentRoot: string | null = null;
  private derivationSecret: Buffer | null = null;
  private readonly listeners: KeyUseListener[] = [];

  constructor(root: RootKey | RootKeyProvider, options: KeyringOptions | (() => number) = {}) {
    this.provider = isProvider(root) ? root : localRootKeyProvider(root, root.source === 'env' ? 'env' : 'file');
    const opts = typeof options === 'function' ? { now: options } : options;
    this.now = opts.now ?? Date.now;
    this.rotateAt = opts.rotateAtEncryptions ?? DEFAULT_ROTATE_AT_ENCRYPTIONS;
  }

  /** The root key version that wraps new data keys (as last read from the database). */
  get rootKeyId(): string {
    return this.currentRoot ?? this.provider.defaultKeyId();
  }

  /** Subscribes to key uses (metrics). */
  observe(listener: KeyUseListener): void {
    this.listeners.push(listener);
  }

  /**
   * Start-up: reads the provider, records which root key version is current (the newest the
   * database names, else the provider's), refuses a root key that cannot unwrap what is
   * stored (naming the key id needed), and loads — or creates — the derivation secret.
   */
  async open(db: Kysely<Database>): Promise<void> {
    await this.provider.init();
    let current = await this.readCurrentRoot(db);
    if (!current) {
      const used = await db.selectFrom('data_keys').select('root_key_id').distinct().where('retired_at', 'is', null).execute();
      const ids = used.map((r) => r.root_key_id);
      const fallback = this.provider.defaultKeyId();
      const id = ids.length === 0 || ids.includes(fallback) ? fallback : ids[0]!;
      await db
        .insertInto('root_keys')
        .values({ id, provider: this.provider.kind, seq: 1, created_at: new Date(this.now()).toISOString(), retired_at: null })
        .onConflict((oc) => oc.doNothing())
        .execute();
      current = (await this.readCurrentRoot(db))!;
    }
    if (!(await this.provider.has(current))) throw new RootKeyMismatchError(this.configuredIds(), [current]);
    this.currentRoot = current;
    await this.verifyRootKey(db);
    await this.loadDerivationSecret(db);
  }

  /** Loads every tenant's data keys outside any transaction, so writes start with a warm cache. */
  async warm(db: Kysely<Database>): Promise<void> {
    const tenants = await db.selectFrom('data_keys').select('tenant_id').distinct().where('retired_at', 'is', null).execute();
    for (const { tenant_id } of tenants) await this.keysOf(db, tenant_id);
  }

  /**
   * A keyed digest (HMAC-SHA256 under a key derived for `purpose`), for values that must be
   * compared later but may contain secrets, such as the fingerprint of a request body.
   * Unlike a plain hash, it cannot be used to confirm a guessed secret by anyone holding
   * only the database.
   */
  digest(purpose: string, data: string): string {
    return createHmac('sha256', this.derivedKey(purpose)).update(data, 'utf8').digest('hex');
  }

  /**
   * A 256-bit key (HKDF-SHA256) for one purpose, e.g. the audit chain. It derives from the
   * installation's derivation secret, which is wrapped by the root key and survives root
   * key rotation (so the audit chain keeps verifying). Installations from before key
   * management used the root key's bytes as that secret and keep doing so.
   */
  derivedKey(purpose: string): Buffer {
    let key = this.digestKeys.get(purpose);
    if (!key) {
      const secret = this.derivationSecret ?? this.provider.localKeyBytes(this.rootKeyId);
      if (!secret) throw new Error('the keyring is not open: call open() before deriving keys');
      key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `latchkey.digest.v1:${purpose}`, 32));
      this.digestKeys.set(purpose, key);
    }
    return key;
  }

  /** Refuses a root key that did not wrap the stored keys, naming the key id(s) needed. */
  async verifyRootKey(db: Kysely<Database>): Promise<void> {
    const dataRoots = await db.selectFrom('data_keys').select('root_key_id').distinct().where('retired_at', 'is', null).execute();
    const systemRoots = await db.selectFrom('system_keys').select('root_key_id').distinct().execute();
    const ids = [...new Set([...dataRoots, ...systemRoots].map((r) => r.root_key_id))];
    const missing: string[] = [];
    for (const id of ids) if (!(await this.provider.has(id))) missing.push(id);
    if (missing.length > 0) throw new RootKeyMismatchError(this.configuredIds(), missing);
    for (const id of ids) {
      const sample = await db.selectFrom('data_keys').selectAll().where('root_key_id', '=', id).where('retired_at', 'is', null).limit(1).executeTakeFirst();
      try {
        if (sample) (await this.provider.unwrap(id, sample.wrapped, dataKeyAad(sample.tenant_id, Number(sample.version)))).fill(0);
      } catch {
        throw new RootKeyMismatchError(this.configuredIds(), [id]);
      }
    }
  }

  /** The root key version the database says wraps new keys. */
  async currentRootKeyId(db: Kysely<Database>): Promise<string> {
    return (await this.readCurrentRoot(db)) ?? this.rootKeyId;
  }

  /** Records a new current root key version in this instance (after `rotateRootKey` committed). */
  useRootKey(id: string): void {
    this.currentRoot = id;
  }

  /** Creates the tenant's first data key (idempotent across instances). */
  async ensureTenantKey(db: Kysely<Database>, tenantId: string, now: string): Promise<void> {
    const existing = await db.selectFrom('data_keys').select('version').where('tenant_id', '=', tenantId).executeTakeFirst();
    if (existing) return;
    const rootId = await this.currentRootKeyId(db);
    const wrapped = await this.provider.wrap(rootId, randomBytes(32), dataKeyAad(tenantId, 1));
    await db
      .insertInto('data_keys')
      .values({ tenant_id: tenantId, version: 1, root_key_id: rootId, wrapped, created_at: now, encryptions: 0 })
      .onConflict((oc) => oc.columns(['tenant_id', 'version']).doNothing())
      .execute();
  }

  /**
   * Adds a new data key version for the tenant and makes it the one new ciphertexts use;
   * the previous version is superseded and never encrypts again. Older versions keep
   * decrypting until they are retired; re-encrypting old ciphertexts is a separate step
   * (`latchkey keys reencrypt`). Returns the new version.
   *
   * @example
   * ```ts
   * const version = await keyring.rotateTenantKey(db, 'default', new Date().toISOString());
   * ```
   */
  async rotateTenantKey(db: Kysely<Database>, tenantId: string, now: string): Promise<number> {
    return (await this.rotate(db, tenantId, now, undefined))!;
  }

  /**
   * Rotates only if `version` is still the tenant's current version (scheduled rotation on
   * several instances: one of them rotates). Returns the new version, or null.
   */
  async rotateTenantKeyIfCurrent(db: Kysely<Database>, tenantId: string, version: number, now: string): Promise<number | null> {
    return this.rotate(db, tenantId, now, version);
  }

  private async rotate(db: Kysely<Database>, tenantId: string, now: string, ifCurrent: number | undefined): Promise<number | null> {
    // Superseding first takes the current row's lock (PostgreSQL): writers counting a use of
    // it finish before, and a concurrent rotation waits and then numbers its version after ours.
    let supersede = db.updateTable('data_keys').set({ superseded_at: now }).where('tenant_id', '=', tenantId).where('superseded_at', 'is', null);
    if (ifCurrent !== undefined) supersede = supersede.where('version', '=', ifCurrent);
    const superseded = await supersede.executeTakeFirst();
    if (ifCurrent !== undefined && Number(superseded.numUpdatedRows) === 0) return null;
    const latest = await db
      .selectFrom('data_keys')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    const version = Number(latest?.version ?? 0) + 1;
    const rootId = await this.currentRootKeyId(db);
    const wrapped = await this.provider.wrap(rootId, randomBytes(32), dataKeyAad(tenantId, version));
    await db.insertInto('data_keys').values({ tenant_id: tenantId, version, root_key_id: rootId, wrapped, created_at: now, encryptions: 0 }).execute();
    this.cache.delete(tenantId);
    return version;
  }

  /** Forgets cached data keys (all, or one tenant's), e.g. after a retirement. */
  forget(tenantId?: string): void {
    if (tenantId === undefined) this.cache.clear();
    else this.cache.delete(tenantId);
  }

  async encrypt(db: Kysely<Database>, ref: SecretRef, plaintext: string): Promise<{ ciphertext: string; keyVersion: number }> {
    const [sealed] = await this.encryptMany(db, ref.tenantId, [{ ref, plaintext }]);
    return sealed!;
  }

  /**
   * Encrypts several values of one tenant with one use count (re-encryption batches).
   * Every ref must belong to `tenantId`.
   */
  async encryptMany(db: Kysely<Database>, tenantId: string, items: ReadonlyArray<{ ref: SecretRef; plaintext: string }>): Promise<Array<{ ciphertext: string; keyVersion: number }>> {
    if (items.length === 0) return [];
    for (const item of items) if (item.ref.tenantId !== tenantId) throw new Error('encryptMany: every ref must belong to the tenant');
    const { version, key } = await this.reserve(db, tenantId, items.length);
    const out = items.map(({ ref, plaintext }) => {
      const sealed = seal(key, Buffer.from(plaintext, 'utf8'), aadOf(ref));
      return { ciphertext: `lk1.${version}.${sealed.toString('base64url')}`, keyVersion: version };
    });
    for (const listener of this.listeners) listener('encrypt', items[0]!.ref.kind, items.length);
    return out;
  }

  /**
   * Re-encryption of a batch of one tenant's ciphertexts under its current data key, with
   * one use count: each is opened with the version it names and sealed again with the
   * same binding, the plaintext never leaving a buffer that is wiped afterwards. Throws,
   * naming the ref (never a value), for a ciphertext that does not open.
   */
  async reencryptMany(db: Kysely<Database>, tenantId: string, items: ReadonlyArray<{ ref: SecretRef; ciphertext: string }>): Promise<Array<{ ciphertext: string; keyVersion: number }>> {
    if (items.length === 0) return [];
    const { version, key } = await this.reserve(db, tenantId, items.length);
    let keys = await this.keysOf(db, tenantId);
    const out: Array<{ ciphertext: string; keyVersion: number }> = [];
    for (const { ref, ciphertext } of items) {
      if (ref.tenantId !== tenantId) throw new Error('reencryptMany: every ref must belong to the tenant');
      const match = ENVELOPE.exec(ciphertext);
      const where = `${ref.kind} ${ref.uid} field ${ref.field} of tenant ${ref.tenantId}`;
      if (!match) throw new Error(`${where} is not a Latchkey ciphertext`);
      const from = Number(match[1]);
      if (!keys.byVersion.has(from)) keys = await this.keysOf(db, tenantId, from);
      const old = keys.byVersion.get(from);
      if (!old) throw new Error(`${where}: data key version ${from} is missing or retired`);
      const aad = aadOf(ref);
      let plaintext: Buffer;
      try {
        plaintext = open(old, Buffer.from(match[2]!, 'base64url'), aad);
      } catch {
        throw new Error(`${where} does not decrypt (tampered, or moved from another record)`);
      }
      out.push({ ciphertext: `lk1.${version}.${seal(key, plaintext, aad).toString('base64url')}`, keyVersion: version });
      plaintext.fill(0);
    }
    for (const listener of this.listeners) listener('decrypt', items[0]!.ref.kind, items.length);
    for (const listener of this.listeners) listener('encrypt', items[0]!.ref.kind, items.length);
    return out;
  }

  /**
   * For re-encryption off the main thread (src/keys/reseal-worker.ts): the tenant's
   * unwrapped data keys and which version is current. The caller must then count its uses
   * with {@link countUses} in the transaction that stores the results.
   */
  async sealingKeys(db: Kysely<Database>, tenantId: string): Promise<{ current: number; byVersion: ReadonlyMap<number, Buffer> }> {
    const keys = await this.keysOf(db, tenantId);
    return { current: keys.current, byVersion: keys.byVersion };
  }

  /**
   * Counts `n` encryptions made with `version`, provided it is still the tenant's current
   * version; returns false (counting nothing) when a rotation superseded it meanwhile.
   */
  async countUses(db: Kysely<Database>, tenantId: string, version: number, n: number): Promise<boolean> {
    const row = await db
      .updateTable('data_keys')
      .set((eb) => ({ encryptions: eb('encryptions', '+', n) }))
      .where('tenant_id', '=', tenantId)
      .where('version', '=', version)
      .where('superseded_at', 'is', null)
      .where('retired_at', 'is', null)
      .returning('encryptions')
      .executeTakeFirst();
    if (!row) {
      this.cache.delete(tenantId);
      return false;
    }
    const used = Number(row.encryptions);
    if (used > MAX_ENCRYPTIONS_PER_KEY) throw new DataKeyExhaustedError(`data key version ${version} of tenant ${tenantId} reached its encryption limit; rotate it`);
    if (used >= this.rotateAt) await this.rotateTenantKey(db, tenantId, new Date(this.now()).toISOString());
    return true;
  }

  async decrypt(db: Kysely<Database>, ref: SecretRef, ciphertext: string): Promise<string> {
    const match = ENVELOPE.exec(ciphertext);
    if (!match) throw new Error('not a Latchkey ciphertext');
    const version = Number(match[1]);
    const sealed = Buffer.from(match[2]!, 'base64url');
    if (sealed.toString('base64url') !== match[2]) throw new Error('not a Latchkey ciphertext');
    const keys = await this.keysOf(db, ref.tenantId, version);
    const key = keys.byVersion.get(version);
    if (!key) throw new Error(`data key version ${version} of tenant ${ref.tenantId} is missing or retired`);
    const plaintext = open(key, sealed, aadOf(ref)).toString('utf8');
    for (const listener of this.listeners) listener('decrypt', ref.kind, 1);
    return plaintext;
  }

  /**
   * Counts `n` uses of the tenant's current version and returns its key. When a rotation
   * superseded the version this instance thought current, it reads the keys again.
   */
  private async reserve(db: Kysely<Database>, tenantId: string, n: number): Promise<{ version: number; key: Buffer }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const keys = await this.keysOf(db, tenantId, undefined, attempt > 0);
      const version = keys.current;
      // Past the rotation threshold this use still fits under the limit; later ones get a new
      // version. Rotating in the caller's transaction keeps it exact: if that rolls back, so
      // does the count, and the next use crosses the threshold again.
      if (!(await this.countUses(db, tenantId, version, n))) continue;
      return { version, key: keys.byVersion.get(version)! };
    }
    throw new Error(`tenant ${tenantId} has no current data key`);
  }

  private async keysOf(db: Kysely<Database>, tenantId: string, version?: number, reload = false): Promise<TenantKeys> {
    const cached = this.cache.get(tenantId);
    const fresh = cached !== undefined && this.now() - cached.loadedAt < CACHE_TTL_MS;
    if (!reload && cached && (fresh || db.isTransaction) && (version === undefined || cached.byVersion.has(version))) return cached;
    const rows = await db.selectFrom('data_keys').selectAll().where('tenant_id', '=', tenantId).where('retired_at', 'is', null).execute();
    if (rows.length === 0) throw new Error(`tenant ${tenantId} has no data key`);
    const byVersion = new Map<number, Buffer>();
    let current = 0;
    for (const row of rows) {
      const v = Number(row.version);
      if (!(await this.provider.has(row.root_key_id))) throw new RootKeyMismatchError(this.configuredIds(), [row.root_key_id]);
      try {
        byVersion.set(v, await this.provider.unwrap(row.root_key_id, row.wrapped, dataKeyAad(tenantId, v)));
      } catch (error) {
        if (this.provider.kind !== 'vault') throw new RootKeyMismatchError(this.configuredIds(), [row.root_key_id]);
        throw error;
      }
      if (!row.superseded_at && v > current) current = v;
    }
    // Every version superseded (a rotation in flight in another transaction): the newest is the best guess; the count check decides.
    if (current === 0) current = Math.max(...byVersion.keys());
    const keys = { current, byVersion, loadedAt: this.now() };
    // Only committed rows are cached: a key read inside a transaction may be one that the
    // transaction created and is about to roll back. The TTL picks up rotations made by
    // other instances.
    if (!db.isTransaction) this.cache.set(tenantId, keys);
    return keys;
  }

  private async readCurrentRoot(db: Kysely<Database>): Promise<string | null> {
    const row = await db.selectFrom('root_keys').select('id').where('retired_at', 'is', null).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row?.id ?? null;
  }

  private configuredIds(): string {
    const ids = this.provider.keyIds();
    return ids.length > 0 ? ids.join(', ') : this.provider.describe();
  }

  /**
   * The derivation secret: created once per installation, wrapped by the root key and
   * rewrapped with everything else when the root key rotates. A database from before key
   * management (data keys, but no secret yet) keeps its old derivation from the root key's
   * bytes, so its audit chain and idempotency fingerprints stay valid.
   */
  private async loadDerivationSecret(db: Kysely<Database>): Promise<void> {
    let row = await db.selectFrom('system_keys').selectAll().where('name', '=', DERIVATION_SECRET).executeTakeFirst();
    if (!row) {
      const legacy = await db.selectFrom('data_keys').select('root_key_id').limit(1).executeTakeFirst();
      const secret = (legacy ? this.provider.localKeyBytes(legacy.root_key_id) : null) ?? randomBytes(32);
      const rootId = this.rootKeyId;
      const wrapped = await this.provider.wrap(rootId, secret, systemKeyAad(DERIVATION_SECRET));
      await db
        .insertInto('system_keys')
        .values({ name: DERIVATION_SECRET, root_key_id: rootId, wrapped, created_at: new Date(this.now()).toISOString() })
        .onConflict((oc) => oc.doNothing())
        .execute();
      row = await db.selectFrom('system_keys').selectAll().where('name', '=', DERIVATION_SECRET).executeTakeFirstOrThrow();
    }
    try {
      this.derivationSecret = await this.provider.unwrap(row.root_key_id, row.wrapped, systemKeyAad(DERIVATION_SECRET));
    } catch {
      throw new RootKeyMismatchError(this.configuredIds(), [row.root_key_id]);
    }
    this.digestKeys.clear();
  }
}
