/**
 * The idempotency store keeps replayable responses (some carry a secret shown once, such
 * as a new API key): encrypted, bound to tenant and key, with keyed fingerprints.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { Keyring } from '../../src/crypto/keyring.js';
import { rootKeyId } from '../../src/crypto/root-key.js';
import { LatchkeyError } from '../../src/errors.js';
import { type Store, openStore } from '../../src/store/database.js';
import { IdempotencyStore } from '../../src/store/idempotency-store.js';
import { migrateToLatest } from '../../src/store/migrations.js';

const NOW = new Date('2025-01-01T00:00:00.000Z');

describe('idempotency store', () => {
  let store: Store;
  const rootKey = randomBytes(32);
  const keyring = new Keyring({ id: rootKeyId(rootKey), key: rootKey, source: 'env' });
  const idem = new IdempotencyStore(keyring);

  beforeAll(async () => {
    store = openStore({ url: ':memory:' });
    await migrateToLatest(store.db);
    await keyring.ensureTenantKey(store.db, 't1', NOW.toISOString());
    await keyring.ensureTenantKey(store.db, 't2', NOW.toISOString());
  });
  afterAll(async () => store?.close());

  it('fingerprints are keyed, and bound to operation, input and (when given) the calling key', () => {
    const input = { credentials: { type: 'basic', username: 'u', password: 'hunter2' } };
    const fp = idem.fingerprint('op', input);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).toBe(idem.fingerprint('op', structuredClone(input)));
    expect(fp).not.toBe(createHash('sha256').update(`op\n${canonicalJson(input)}`).digest('hex'));
    expect(fp).not.toBe(createHash('sha256').update('op').update('\n').update(canonicalJson(input)).digest('hex'));
    expect(fp).not.toBe(idem.fingerprint('op2', input));
    expect(fp).not.toBe(idem.fingerprint('op', { credentials: { ...input.credentials, password: 'hunter3' } }));
    expect(idem.fingerprint('op', input, 'key_a')).toBe(idem.fingerprint('op', input, 'key_a'));
    expect(idem.fingerprint('op', input, 'key_a')).not.toBe(idem.fingerprint('op', input, 'key_b'));
    expect(idem.fingerprint('op', input, 'key_a')).not.toBe(fp);
    // Another root key gives other fingerprints: the database alone cannot confirm a guess.
    const other = randomBytes(32);
    expect(new IdempotencyStore(new Keyring({ id: rootKeyId(other), key: other, source: 'env' })).fingerprint('op', input)).not.toBe(fp);
  });

  it('claims, completes, replays; refuses a different request or one in progress; releases on abandon', async () => {
    const db = store.db;
    const fp = idem.fingerprint('op', { a: 1 }, 'key_a');
    expect(await idem.begin(db, 't1', 'K1', 'op', fp, NOW)).toBeNull();
    // In progress: a concurrent retry is told so.
    await expect(idem.begin(db, 't1', 'K1', 'op', fp, NOW)).rejects.toMatchObject({ code: 'conflict' });
    const output = { apiKey: { id: 'key_new' }, key: `lk_${randomBytes(32).toString('base64url')}` };
    await db.transaction().execute((trx) => idem.complete(trx, 't1', 'K1', output));
    expect(await idem.begin(db, 't1', 'K1', 'op', fp, NOW)).toEqual(output);
    // The stored response is an envelope, not the key.
    const row = await db.selectFrom('idempotency_keys').selectAll().where('idem_key', '=', 'K1').executeTakeFirstOrThrow();
    expect(row.response).toMatch(/^lk1\.1\./);
    expect(JSON.stringify(row)).not.toContain(output.key);
    // Same key, other request (or other caller): refused, nothing replayed.
    for (const other of [idem.fingerprint('op', { a: 2 }, 'key_a'), idem.fingerprint('op', { a: 1 }, 'key_b')]) {
      const error = await idem.begin(db, 't1', 'K1', 'op', other, NOW).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LatchkeyError);
      expect(error).toMatchObject({ code: 'validation_failed', reason: 'idempotency_key_reused' });
    }
    await expect(idem.begin(db, 't1', 'K1', 'op2', fp, NOW)).rejects.toMatchObject({ reason: 'idempotency_key_reused' });
    // The same Idempotency-Key in another tenant is a different claim.
    expect(await idem.begin(db, 't2', 'K1', 'op', fp, NOW)).toBeNull();
    // Abandon releases a pending claim only.
    await idem.abandon(db, 't2', 'K1');
    expect(await idem.begin(db, 't2', 'K1', 'op', fp, NOW)).toBeNull();
    await idem.abandon(db, 't1', 'K1');
    expect(await idem.begin(db, 't1', 'K1', 'op', fp, NOW)).toEqual(output);
    // After the retention window the key may be used afresh.
    expect(await idem.begin(db, 't1', 'K1', 'op', idem.fingerprint('op', { a: 3 }), new Date(NOW.getTime() + 25 * 3600_000))).toBeNull();
  });

  it('a stored response copied to another key or tenant does not decrypt', async () => {
    const db = store.db;
    const fp = idem.fingerprint('op', { b: 1 });
    expect(await idem.begin(db, 't1', 'K2', 'op', fp, NOW)).toBeNull();
    await db.transaction().execute((trx) => idem.complete(trx, 't1', 'K2', { secret: 'shown-once' }));
    const row = await db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', 't1').where('idem_key', '=', 'K2').executeTakeFirstOrThrow();
    await db.insertInto('idempotency_keys').values({ ...row, idem_key: 'K3' }).execute();
    await db.insertInto('idempotency_keys').values({ ...row, tenant_id: 't2' }).execute();
    await expect(idem.begin(db, 't1', 'K3', 'op', fp, NOW)).rejects.toThrow();
    await expect(idem.begin(db, 't2', 'K2', 'op', fp, NOW)).rejects.toThrow();
    expect(await idem.begin(db, 't1', 'K2', 'op', fp, NOW)).toEqual({ secret: 'shown-once' });
  });
});
