/**
 * Barrier tests in the spirit of OpenBao's: confidentiality, integrity, binding of every
 * ciphertext to its place, envelope keys under the root key, and key versions.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLatchkey } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { open, seal } from '../../src/crypto/aead.js';
import { Keyring, RootKeyMismatchError, type SecretRef } from '../../src/crypto/keyring.js';
import { type RootKey, loadRootKey, rootKeyId } from '../../src/crypto/root-key.js';
import { type Store, openStore } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import type { Database } from '../../src/store/schema.js';
import { SecretStore } from '../../src/store/secret-store.js';
import { BOOTSTRAP_KEY, githubIntegration, startTestServer } from '../support/harness.js';

const NOW = '2025-01-01T00:00:00.000Z';

function newRootKey(): RootKey {
  const key = randomBytes(32);
  return { id: rootKeyId(key), key, source: 'env' };
}

/** Every string that differs from `text` in exactly one bit of one UTF-16 code unit (ASCII range). */
function* singleBitFlips(text: string): Generator<string> {
  for (let i = 0; i < text.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = String.fromCharCode(text.charCodeAt(i) ^ (1 << bit));
      yield text.slice(0, i) + flipped + text.slice(i + 1);
    }
  }
}

async function memoryStore(): Promise<Store> {
  const store = openStore({ url: ':memory:' });
  await migrateToLatest(store.db);
  return store;
}

describe('AEAD (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const aad = Buffer.from('bound-to-this');

  it('round-trips any plaintext, including empty and binary', () => {
    for (const plaintext of [Buffer.alloc(0), Buffer.from('s3cr3t'), randomBytes(4096), Buffer.from('ünïcødé 🔑', 'utf8')]) {
      expect(open(key, seal(key, plaintext, aad), aad).equals(plaintext)).toBe(true);
    }
  });

  it('never reveals the plaintext in the sealed bytes', () => {
    const plaintext = Buffer.from('canary-plaintext-visible-if-not-encrypted');
    const sealed = seal(key, plaintext, aad);
    expect(sealed.includes(plaintext)).toBe(false);
    expect(sealed.toString('latin1')).not.toContain('canary');
    expect(sealed.length).toBe(12 + plaintext.length + 16);
  });

  it('gives different ciphertexts for the same plaintext: nonces never repeat', () => {
    const plaintext = Buffer.from('same plaintext every time');
    const nonces = new Set<string>();
    const ciphertexts = new Set<string>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const sealed = seal(key, plaintext, aad);
      nonces.add(sealed.subarray(0, 12).toString('hex'));
      ciphertexts.add(sealed.toString('hex'));
    }
    expect(nonces.size).toBe(n);
    expect(ciphertexts.size).toBe(n);
  });

  it('fails on any single bit flip of nonce, body or tag', () => {
    const sealed = seal(key, Buffer.from('integrity matters'), aad);
    let attempts = 0;
    for (let i = 0; i < sealed.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(sealed);
        tampered[i]! ^= 1 << bit;
        expect(() => open(key, tampered, aad), `byte ${i} bit ${bit}`).toThrow();
        attempts++;
      }
    }
    expect(attempts).toBe(sealed.length * 8);
  });

  it('fails with another key, other associated data, or truncated input', () => {
    const sealed = seal(key, Buffer.from('x'), aad);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow();
    expect(() => open(key, sealed, Buffer.from('bound-to-that'))).toThrow();
    expect(() => open(key, sealed, Buffer.alloc(0))).toThrow();
    for (let len = 0; len < sealed.length; len++) expect(() => open(key, sealed.subarray(0, len), aad), `length ${len}`).toThrow();
    expect(() => open(key, Buffer.concat([sealed, Buffer.from([0])]), aad)).toThrow();
  });
});

describe('keyring (envelope keys, bound ciphertexts)', () => {
  let store: Store;
  let db: Kysely<Database>;
  const root = newRootKey();
  let keyring: Keyring;
  const ref: SecretRef = { tenantId: 'tenant-a', kind: 'connection', uid: 'con_000000000001aaaaaaaaaaaaaaaa', field: 'refreshToken' };

  beforeAll(async () => {
    store = await memoryStore();
    db = store.db;
    keyring = new Keyring(root);
    await keyring.ensureTenantKey(db, 'tenant-a', NOW);
    await keyring.ensureTenantKey(db, 'tenant-b', NOW);
  });
  afterAll(async () => store?.close());

  it('round-trips and names the key version in the envelope', async () => {
    const { ciphertext, keyVersion } = await keyring.encrypt(db, ref, 'refresh-token-value ✓');
    expect(keyVersion).toBe(1);
    expect(ciphertext).toMatch(/^lk1\.1\.[A-Za-z0-9_-]+$/);
    expect(ciphertext).not.toContain('refresh-token-value');
    expect(await keyring.decrypt(db, ref, ciphertext)).toBe('refresh-token-value ✓');
    // A fresh keyring (another instance) unwraps the stored data key and decrypts too.
    expect(await new Keyring(root).decrypt(db, ref, ciphertext)).toBe('refresh-token-value ✓');
  });

  it('gives different ciphertexts for the same plaintext and ref', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) seen.add((await keyring.encrypt(db, ref, 'same')).ciphertext);
    expect(seen.size).toBe(500);
  });

  it('rejects every single-bit change anywhere in the envelope string', async () => {
    // 17 bytes of plaintext: nonce+body+tag = 45 bytes = 60 base64url characters, and a
    // 16-byte one (44 bytes) leaves spare bits in the last character: both must be strict.
    for (const plaintext of ['seventeen-bytes!!', 'sixteen-bytes!!!', 'x']) {
      const { ciphertext } = await keyring.encrypt(db, ref, plaintext);
      let tried = 0;
      for (const tampered of singleBitFlips(ciphertext)) {
        tried++;
        await expect(keyring.decrypt(db, ref, tampered), `${JSON.stringify(plaintext)} → ${tampered}`).rejects.toThrow();
      }
      expect(tried).toBe(ciphertext.length * 8);
      expect(await keyring.decrypt(db, ref, ciphertext)).toBe(plaintext);
    }
  });

  it('fails to decrypt a ciphertext moved to another uid, field, kind or tenant', async () => {
    const { ciphertext } = await keyring.encrypt(db, ref, 'bound value');
    const moved: SecretRef[] = [
      { ...ref, uid: 'con_000000000001bbbbbbbbbbbbbbbb' },
      { ...ref, field: 'accessToken' },
      { ...ref, kind: 'integration' },
      { ...ref, kind: 'idempotency' },
      { ...ref, tenantId: 'tenant-b' },
    ];
    for (const other of moved) await expect(keyring.decrypt(db, other, ciphertext), JSON.stringify(other)).rejects.toThrow();
    expect(await keyring.decrypt(db, ref, ciphertext)).toBe('bound value');
  });

  it('does not let field/uid boundaries be shifted (AAD is unambiguous)', async () => {
    const a: SecretRef = { tenantId: 'tenant-a', kind: 'connection', uid: 'ab', field: 'c' };
    const b: SecretRef = { tenantId: 'tenant-a', kind: 'connection', uid: 'a', field: 'bc' };
    const { ciphertext } = await keyring.encrypt(db, a, 'v');
    await expect(keyring.decrypt(db, b, ciphertext)).rejects.toThrow();
  });

  it('rejects truncated and garbage envelopes', async () => {
    const { ciphertext } = await keyring.encrypt(db, ref, 'some value');
    const body = ciphertext.split('.')[2]!;
    const garbage = [
      '',
      'lk1',
      'lk1.1',
      'lk1.1.',
      'lk1..AAAA',
      'lk1.0.' + body,
      'lk1.01.' + body,
      'lk1.2.' + body,
      'lk1.99999.' + body,
      'lk2.1.' + body,
      'LK1.1.' + body,
      ` ${ciphertext}`,
      `${ciphertext}\n`,
      `${ciphertext}=`,
      `lk1.1.${Buffer.from(body, 'base64url').toString('base64')}==`,
      `lk1.1.${body}.extra`,
      ciphertext.slice(0, -1),
      ciphertext.slice(0, -22),
      `lk1.1.${randomBytes(45).toString('base64url')}`,
      `lk1.1.${randomBytes(27).toString('base64url')}`,
      'lk1.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'not even close',
    ];
    for (const text of garbage) await expect(keyring.decrypt(db, ref, text), JSON.stringify(text)).rejects.toThrow();
  });

  it('cannot use a data key wrapped under one root key with another', async () => {
    const other = newRootKey();
    const intruder = new Keyring(other);
    await expect(intruder.encrypt(db, ref, 'x')).rejects.toThrow(RootKeyMismatchError);
    const { ciphertext } = await keyring.encrypt(db, ref, 'x');
    await expect(intruder.decrypt(db, ref, ciphertext)).rejects.toThrow(RootKeyMismatchError);

    // Relabelling the wrapped key as the other root's does not help: the unwrap fails.
    const s2 = await memoryStore();
    try {
      await keyring.ensureTenantKey(s2.db, 'tenant-a', NOW);
      const ct = (await keyring.encrypt(s2.db, ref, 'y')).ciphertext;
      await s2.db.updateTable('data_keys').set({ root_key_id: other.id }).execute();
      await expect(new Keyring(other).decrypt(s2.db, ref, ct)).rejects.toThrow();
      await expect(new Keyring(other).verifyRootKey(s2.db)).rejects.toThrow(RootKeyMismatchError);
    } finally {
      await s2.close();
    }
  });

  it('binds each wrapped data key to its tenant and version', async () => {
    const s2 = await memoryStore();
    try {
      const kr = new Keyring(root);
      await kr.ensureTenantKey(s2.db, 't1', NOW);
      await kr.ensureTenantKey(s2.db, 't2', NOW);
      const t1 = await s2.db.selectFrom('data_keys').selectAll().where('tenant_id', '=', 't1').executeTakeFirstOrThrow();
      // Give t2 the wrapped key of t1: unwrapping under t2's associated data fails.
      await s2.db.updateTable('data_keys').set({ wrapped: t1.wrapped }).where('tenant_id', '=', 't2').execute();
      await expect(new Keyring(root).encrypt(s2.db, { ...ref, tenantId: 't2' }, 'x')).rejects.toThrow();
      // Relabel t1's version 1 as version 2: unwrapping fails too.
      await s2.db.updateTable('data_keys').set({ version: 2 }).where('tenant_id', '=', 't1').execute();
      await expect(new Keyring(root).encrypt(s2.db, { ...ref, tenantId: 't1' }, 'x')).rejects.toThrow();
    } finally {
      await s2.close();
    }
  });

  it('verifyRootKey accepts the right root key and names the needed key id otherwise', async () => {
    await expect(keyring.verifyRootKey(db)).resolves.toBeUndefined();
    const wrong = newRootKey();
    const error = await new Keyring(wrong).verifyRootKey(db).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RootKeyMismatchError);
    const mismatch = error as RootKeyMismatchError;
    expect(mismatch.needed).toEqual([root.id]);
    expect(mismatch.configured).toBe(wrong.id);
    expect(mismatch.message).toContain(root.id);
    expect(mismatch.message).toContain(wrong.id);
    expect(mismatch.message).not.toContain(root.key.toString('base64'));
    expect(mismatch.message).not.toContain(wrong.key.toString('base64'));
  });

  it('verifyRootKey accepts any root key on an empty database', async () => {
    const s2 = await memoryStore();
    try {
      await expect(new Keyring(newRootKey()).verifyRootKey(s2.db)).resolves.toBeUndefined();
    } finally {
      await s2.close();
    }
  });

  it('never caches a data key from a transaction that rolls back, and sees other instances\' rotations', async () => {
    const s2 = await memoryStore();
    try {
      let clock = 0;
      const kr = new Keyring(root, () => clock);
      await kr.ensureTenantKey(s2.db, 'rb', NOW);
      const r: SecretRef = { ...ref, tenantId: 'rb' };
      // Rotate and encrypt inside a transaction that rolls back.
      await s2.db
        .transaction()
        .execute(async (trx) => {
          await kr.rotateTenantKey(trx, 'rb', NOW);
          expect((await kr.encrypt(trx, r, 'phantom')).keyVersion).toBe(2);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      // Another instance then commits its own version 2.
      await new Keyring(root).rotateTenantKey(s2.db, 'rb', NOW);
      const sealed = await kr.encrypt(s2.db, r, 'after rollback');
      expect(await new Keyring(root).decrypt(s2.db, r, sealed.ciphertext)).toBe('after rollback');
      // A rotation elsewhere reaches this keyring once its cache expires.
      await new Keyring(root).rotateTenantKey(s2.db, 'rb', NOW);
      clock += 61_000;
      expect((await kr.encrypt(s2.db, r, 'fresh')).keyVersion).toBe(3);
    } finally {
      await s2.close();
    }
  });

  it('keeps decrypting old data-key versions after rotation', async () => {
    const s2 = await memoryStore();
    try {
      const kr = new Keyring(root);
      await kr.ensureTenantKey(s2.db, 'rot', NOW);
      const r: SecretRef = { ...ref, tenantId: 'rot' };
      const v1 = await kr.encrypt(s2.db, r, 'sealed under v1');
      expect(v1.keyVersion).toBe(1);
      expect(await kr.rotateTenantKey(s2.db, 'rot', NOW)).toBe(2);
      const v2 = await kr.encrypt(s2.db, r, 'sealed under v2');
      expect(v2.keyVersion).toBe(2);
      expect(v2.ciphertext.startsWith('lk1.2.')).toBe(true);
      expect(await kr.rotateTenantKey(s2.db, 'rot', NOW)).toBe(3);
      const v3 = await kr.encrypt(s2.db, r, 'sealed under v3');
      expect(v3.keyVersion).toBe(3);
      // The same keyring, and a cold one (another instance after a restart), read all three.
      for (const reader of [kr, new Keyring(root)]) {
        expect(await reader.decrypt(s2.db, r, v1.ciphertext)).toBe('sealed under v1');
        expect(await reader.decrypt(s2.db, r, v2.ciphertext)).toBe('sealed under v2');
        expect(await reader.decrypt(s2.db, r, v3.ciphertext)).toBe('sealed under v3');
      }
      // An instance that cached only v1 before the rotation still reads a v3 ciphertext.
      const stale = new Keyring(root);
      const s3 = await memoryStore();
      try {
        await stale.ensureTenantKey(s3.db, 'rot', NOW);
        const old = await stale.encrypt(s3.db, r, 'old');
        await new Keyring(root).rotateTenantKey(s3.db, 'rot', NOW);
        const fresh = await new Keyring(root).encrypt(s3.db, r, 'new');
        expect(fresh.keyVersion).toBe(2);
        expect(await stale.decrypt(s3.db, r, fresh.ciphertext)).toBe('new');
        expect(await stale.decrypt(s3.db, r, old.ciphertext)).toBe('old');
      } finally {
        await s3.close();
      }
      // Versions are distinct keys: a v2 body relabelled as v1 does not decrypt.
      await expect(kr.decrypt(s2.db, r, v2.ciphertext.replace(/^lk1\.2\./, 'lk1.1.'))).rejects.toThrow();
      // Deleting an old version loses exactly what was sealed under it, loudly.
      await s2.db.deleteFrom('data_keys').where('tenant_id', '=', 'rot').where('version', '=', 1).execute();
      await expect(new Keyring(root).decrypt(s2.db, r, v1.ciphertext)).rejects.toThrow(/version 1/);
    } finally {
      await s2.close();
    }
  });

  it('keyed digests depend on the root key and the purpose', () => {
    const other = new Keyring(newRootKey());
    expect(keyring.digest('p', 'data')).toBe(new Keyring(root).digest('p', 'data'));
    expect(keyring.digest('p', 'data')).not.toBe(other.digest('p', 'data'));
    expect(keyring.digest('p', 'data')).not.toBe(keyring.digest('q', 'data'));
    expect(keyring.digest('p', 'data')).not.toBe(keyring.digest('p', 'datA'));
  });
});

describe('secret store (the secrets table)', () => {
  let store: Store;
  const root = newRootKey();
  const keyring = new Keyring(root);
  const secrets = new SecretStore(keyring);

  beforeAll(async () => {
    store = await memoryStore();
    await keyring.ensureTenantKey(store.db, 'tenant-a', NOW);
  });
  afterAll(async () => store?.close());

  it('stores only ciphertext, and a row copied to another record or field fails to read', async () => {
    const db = store.db;
    const plan = { set: { password: 'pw-canary-1234567890', username: 'user-canary-0987654321' }, remove: [], resulting: new Set(['password', 'username']) };
    await secrets.apply(db, 'tenant-a', 'connection', 'con_a', plan, NOW);
    const rows = await db.selectFrom('secrets').selectAll().where('owner_uid', '=', 'con_a').execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(JSON.stringify(row)).not.toMatch(/canary/);
      expect(row.ciphertext.startsWith('lk1.1.')).toBe(true);
      expect(Number(row.key_version)).toBe(1);
    }
    expect(await secrets.read(db, 'tenant-a', 'connection', 'con_a')).toEqual(plan.set);

    // Copy the password row to another connection: reading that record fails.
    const pw = rows.find((r) => r.field === 'password')!;
    await db.insertInto('secrets').values({ ...pw, owner_uid: 'con_b' }).execute();
    await expect(secrets.read(db, 'tenant-a', 'connection', 'con_b')).rejects.toThrow();
    // Swap the ciphertexts of two fields of the same record: reading fails.
    const user = rows.find((r) => r.field === 'username')!;
    await db.updateTable('secrets').set({ ciphertext: user.ciphertext }).where('owner_uid', '=', 'con_a').where('field', '=', 'password').execute();
    await expect(secrets.read(db, 'tenant-a', 'connection', 'con_a')).rejects.toThrow();
    // The same uid read as another kind fails as well.
    await db.updateTable('secrets').set({ ciphertext: pw.ciphertext }).where('owner_uid', '=', 'con_a').where('field', '=', 'password').execute();
    expect(await secrets.read(db, 'tenant-a', 'connection', 'con_a')).toEqual(plan.set);
    await expect(secrets.read(db, 'tenant-a', 'integration', 'con_a')).rejects.toThrow();
  });
});

describe('root key at start-up', () => {
  it('generates root.key with mode 0600 and warns, without logging the key', async () => {
    const s = await startTestServer();
    try {
      const path = join(s.dataDir, 'root.key');
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const keyText = readFileSync(path, 'utf8').trim();
      expect(Buffer.from(keyText, 'base64')).toHaveLength(32);
      const warnings = s.logs.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && /generated a new root key/.test(l.msg));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].msg).toContain(path);
      expect(warnings[0].msg).toMatch(/LATCHKEY_ROOT_KEY/);
      expect(s.logs.join('\n')).not.toContain(keyText);
      expect(s.lk.services.keyring.rootKeyId).toBe(rootKeyId(Buffer.from(keyText, 'base64')));
    } finally {
      await s.close();
    }
  });

  it('does not warn and writes no file when the root key is given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-rootkey-'));
    try {
      const warnings: string[] = [];
      const key = randomBytes(32).toString('base64');
      const loaded = loadRootKey({ value: key, dataDir: dir, warn: (m) => warnings.push(m) });
      expect(loaded.source).toBe('env');
      expect(loaded.key.toString('base64')).toBe(key);
      expect(warnings).toEqual([]);
      expect(existsSync(join(dir, 'root.key'))).toBe(false);
      expect(() => loadRootKey({ value: randomBytes(31).toString('base64'), dataDir: dir, warn: () => undefined })).toThrow(/32 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on an existing data dir with another root key, naming the key id needed', async () => {
    const first = await startTestServer();
    const dataDir = first.dataDir;
    const path = join(dataDir, 'root.key');
    const neededId = rootKeyId(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));
    // Leave the data behind: stop the server without deleting the directory.
    const created = await first.request('POST', '/v1/integrations', { body: githubIntegration('gh-rk', 'gh-secret-under-first-root') });
    expect(created.status, created.text).toBe(201);
    await first.lk.close();
    try {
      const wrong = randomBytes(32);
      const logs: string[] = [];
      const sink = new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) });
      const config = loadConfig({}, { dataDir, databaseUrl: first.databaseUrl, rootKey: wrong.toString('base64'), bootstrapKey: BOOTSTRAP_KEY, logLevel: 'info' });
      const error = await createLatchkey(config, { logDestination: sink }).then(
        async (lk) => (await lk.close(), null),
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(RootKeyMismatchError);
      expect(error!.message).toContain(neededId);
      expect(error!.message).toContain(rootKeyId(wrong));
      expect(error!.message).not.toContain(wrong.toString('base64'));

      // Without any key (and the generated file moved away), it refuses rather than
      // generating a fresh key that could never unwrap the stored data keys.
      const moved = join(dataDir, 'root.key.moved');
      renameSync(path, moved);
      const none = await createLatchkey(loadConfig({}, { dataDir, databaseUrl: first.databaseUrl, bootstrapKey: BOOTSTRAP_KEY, logLevel: 'warn' }), {
        logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
      }).then(
        async (lk) => (await lk.close(), null),
        (e: unknown) => e as Error,
      );
      expect(none?.message).toContain(neededId);
      expect(existsSync(path)).toBe(false);
      renameSync(moved, path);

      // The right key (from the file) still starts, and the secret still decrypts.
      const again = await createLatchkey(loadConfig({}, { dataDir, databaseUrl: first.databaseUrl, rootKeyFile: path, bootstrapKey: BOOTSTRAP_KEY, logLevel: 'warn' }), {
        logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
      });
      try {
        const uid = created.body.uid as string;
        expect(await again.services.secrets.read(again.services.store.db, 'default', 'integration', uid)).toEqual({ clientSecret: 'gh-secret-under-first-root' });
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('key rotation through the running service', () => {
  it('old secrets keep decrypting after the tenant data key rotates; new ones use the new version', async () => {
    const s = await startTestServer();
    try {
      const db = s.lk.services.store.db;
      const a = await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-v1', 'secret-sealed-under-v1') });
      expect(a.status, a.text).toBe(201);
      const idem = await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-idem', 'idem-secret'), headers: { 'idempotency-key': 'rot-1' } });
      expect(idem.status, idem.text).toBe(201);

      expect(await s.lk.services.keyring.rotateTenantKey(db, 'default', new Date().toISOString())).toBe(2);

      const b = await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-v2', 'secret-sealed-under-v2') });
      expect(b.status, b.text).toBe(201);
      const versions = await db.selectFrom('secrets').select(['owner_uid', 'key_version', 'ciphertext']).where('owner_uid', 'in', [a.body.uid, b.body.uid]).execute();
      const byOwner = new Map(versions.map((r) => [r.owner_uid, r]));
      expect(Number(byOwner.get(a.body.uid)!.key_version)).toBe(1);
      expect(byOwner.get(a.body.uid)!.ciphertext.startsWith('lk1.1.')).toBe(true);
      expect(Number(byOwner.get(b.body.uid)!.key_version)).toBe(2);
      expect(byOwner.get(b.body.uid)!.ciphertext.startsWith('lk1.2.')).toBe(true);

      const { secrets } = s.lk.services;
      expect(await secrets.read(db, 'default', 'integration', a.body.uid)).toEqual({ clientSecret: 'secret-sealed-under-v1' });
      expect(await secrets.read(db, 'default', 'integration', b.body.uid)).toEqual({ clientSecret: 'secret-sealed-under-v2' });
      // An idempotent replay sealed under v1 still replays after rotation.
      const replay = await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-idem', 'idem-secret'), headers: { 'idempotency-key': 'rot-1' } });
      expect(replay.status, replay.text).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body.uid).toBe(idem.body.uid);
      // A carry-forward update after rotation keeps the old value readable, a new one is v2.
      const patched = await s.request('PATCH', '/v1/integrations/gh-v1', { body: { displayName: 'renamed' } });
      expect(patched.status, patched.text).toBe(200);
      expect(await secrets.read(db, 'default', 'integration', a.body.uid)).toEqual({ clientSecret: 'secret-sealed-under-v1' });
      const rotated = await s.request('PATCH', '/v1/integrations/gh-v1', { body: { secrets: { clientSecret: 'now-under-v2' } } });
      expect(rotated.status, rotated.text).toBe(200);
      const row = await db.selectFrom('secrets').selectAll().where('owner_uid', '=', a.body.uid).executeTakeFirstOrThrow();
      expect(Number(row.key_version)).toBe(2);
      expect(await secrets.read(db, 'default', 'integration', a.body.uid)).toEqual({ clientSecret: 'now-under-v2' });
    } finally {
      await s.close();
    }
  });
});
