/**
 * Key rotation on both engines: data-key rotation (by hand, by use count, on a schedule),
 * root key rotation (rewrap, online), re-encryption under fresh data keys while writes
 * continue, retirement of versions nothing references, and the key status API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/crypto/keyring.js';
import { rotateAgedDataKeys } from '../../src/keys/key-maintenance.js';
import { openKeyring } from '../../src/keys/open-keyring.js';
import { reencryptAll } from '../../src/keys/reencryption.js';
import { rotateRootKey } from '../../src/keys/root-rotation.js';
import { SecretStore } from '../../src/store/secret-store.js';
import { type EngineName, type TestServer, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { type Written, readBack, seedConnections, updateToken } from './support/seed.js';

const pgUp = await postgresAvailable();
if (!pgUp) console.warn('\n!!! rotation.test.ts: PostgreSQL is not reachable, the PostgreSQL suite is SKIPPED (CI=true makes this an error)\n');
const engines: EngineName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('key rotation (%s)', (engine) => {
  let s: TestServer;
  let other: { tenantId: string; adminKey: string };
  let mine: Written;
  let theirs: Written;
  const db = () => s.lk.services.store.db;
  const versionsOf = async (tenantId: string) =>
    (await db().selectFrom('data_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('version').execute()).map((r) => ({
      version: Number(r.version),
      superseded: r.superseded_at !== null,
      retired: r.retired_at !== null,
      encryptions: Number(r.encryptions),
      rootKeyId: r.root_key_id,
    }));
  const expectAllReadBack = async (w: Written) => {
    for (const { id, expected, actual } of await readBack(s, w)) expect(actual, id).toEqual(expected);
  };

  beforeAll(async () => {
    s = await startTestServer({ engine, config: { logLevel: 'warn' } });
    other = await s.newTenant('Other');
    mine = await seedConnections(s, s.adminKey, 'default', 12);
    theirs = await seedConnections(s, other.adminKey, other.tenantId, 4);
  });
  afterAll(async () => s?.close());

  it('counts every encryption against its data-key version, in the database', async () => {
    const [v1] = await versionsOf('default');
    // 12 connections × 2 secrets + the client secret, at least (other writes may add more).
    expect(v1!.encryptions).toBeGreaterThanOrEqual(25);
    const before = v1!.encryptions;
    await updateToken(s, mine, 'user-0');
    expect((await versionsOf('default'))[0]!.encryptions).toBe(before + 1);
  });

  it('keys.keyring.get: a tenant admin sees its data keys; only platform operators see root keys', async () => {
    const own = await s.request('GET', '/v1/keys', { key: other.adminKey });
    expect(own.status, own.text).toBe(200);
    expect(own.body.tenantId).toBe(other.tenantId);
    expect(own.body.rootKey).toBeNull();
    // 4 connections × 2 secrets + the integration's client secret.
    expect(own.body.versions).toEqual([expect.objectContaining({ version: 1, state: 'current', records: 9 })]);
    const platform = await s.request('GET', '/v1/keys');
    expect(platform.status).toBe(200);
    expect(platform.body.rootKey.provider).toBe('file');
    expect(platform.body.rootKey.currentKeyId).toBe(s.lk.services.keyring.rootKeyId);
    expect(platform.body.versions[0].records).toBe(25);
    expect(JSON.stringify(platform.body)).not.toMatch(/gho_|ghr_|client-secret/);
  });

  it('keys.dataKey.rotate: new secrets use the new version, old ones still decrypt, other tenants are untouched', async () => {
    const res = await s.request('POST', '/v1/keys/data-key/rotate', { key: other.adminKey, body: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ tenantId: other.tenantId, version: 2, previousVersion: 1 });
    expect((await versionsOf(other.tenantId)).map((v) => [v.version, v.superseded])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect((await versionsOf('default')).length).toBe(1);
    await updateToken(s, theirs, 'user-1');
    const row = await db().selectFrom('secrets').selectAll().where('owner_uid', '=', theirs.connections.get('user-1')!.uid).where('field', '=', 'accessToken').executeTakeFirstOrThrow();
    expect(row.ciphertext.startsWith('lk1.2.')).toBe(true);
    expect(Number(row.key_version)).toBe(2);
    await expectAllReadBack(theirs);
    const events = await s.request('GET', '/v1/audit-events?action=keys.dataKey.rotate', { key: other.adminKey });
    expect(events.body.data[0]).toMatchObject({ outcome: 'success', resource: { type: 'data_key', id: `${other.tenantId}:v2` } });
  });

  it('a superseded version never encrypts again, even for an instance whose cache still calls it current', async () => {
    const stale = new Keyring(s.lk.services.keyring.provider);
    const ref = { tenantId: 'stale-tenant', kind: 'connection' as const, uid: 'con_stale', field: 'apiKey' };
    await stale.ensureTenantKey(db(), 'stale-tenant', new Date().toISOString());
    expect((await stale.encrypt(db(), ref, 'a')).keyVersion).toBe(1);
    await new Keyring(s.lk.services.keyring.provider).rotateTenantKey(db(), 'stale-tenant', new Date().toISOString());
    // No TTL to wait for: the use count is taken only on a current version.
    const sealed = await stale.encrypt(db(), ref, 'b');
    expect(sealed.keyVersion).toBe(2);
    expect(await stale.decrypt(db(), ref, sealed.ciphertext)).toBe('b');
  });

  it('rotates a data key automatically at the use threshold, and the count survives a restart', async () => {
    const provider = s.lk.services.keyring.provider;
    const tenantId = `auto-${engine}`;
    const ref = { tenantId, kind: 'connection' as const, uid: 'con_auto', field: 'apiKey' };
    const first = new Keyring(provider, { rotateAtEncryptions: 5 });
    await first.ensureTenantKey(db(), tenantId, new Date().toISOString());
    const versions: number[] = [];
    for (let i = 0; i < 3; i++) versions.push((await first.encrypt(db(), ref, `v${i}`)).keyVersion);
    // "Restart": a new keyring reads the count from the database and continues from 3.
    const second = new Keyring(provider, { rotateAtEncryptions: 5 });
    const sealed: string[] = [];
    for (let i = 3; i < 8; i++) {
      const out = await second.encrypt(db(), ref, `v${i}`);
      versions.push(out.keyVersion);
      sealed.push(out.ciphertext);
    }
    expect(versions).toEqual([1, 1, 1, 1, 1, 2, 2, 2]);
    expect((await versionsOf(tenantId)).map((v) => [v.version, v.encryptions, v.superseded])).toEqual([
      [1, 5, true],
      [2, 3, false],
    ]);
    expect(await first.decrypt(db(), ref, sealed[0]!)).toBe('v3');
    expect(await first.decrypt(db(), ref, sealed.at(-1)!)).toBe('v7');
  });

  it('rotates on a schedule, exactly once per tenant when several instances try at the same time', async () => {
    const provider = s.lk.services.keyring.provider;
    const later = new Date(Date.now() + 31 * 86_400_000);
    const before = await versionsOf('default');
    const runs = await Promise.all(
      [new Keyring(provider), new Keyring(provider)].map((keyring) =>
        rotateAgedDataKeys({ store: s.lk.services.store, keyring, audit: s.lk.services.audit, rotationDays: 30, clock: () => later }),
      ),
    );
    const after = await versionsOf('default');
    expect(after.length).toBe(before.length + 1);
    expect(after.filter((v) => !v.superseded)).toHaveLength(1);
    expect(runs.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
    // Nothing is due right after.
    expect(await rotateAgedDataKeys({ store: s.lk.services.store, keyring: new Keyring(provider), audit: s.lk.services.audit, rotationDays: 30 })).toBe(0);
    await expectAllReadBack(mine);
  });

  it('keys.rootKey.rotate rewraps every data key online; secrets, the audit chain and a restarted instance all keep working', async () => {
    const before = s.lk.services.keyring.rootKeyId;
    const tenantAdmin = await s.request('POST', '/v1/keys/root-key/rotate', { key: other.adminKey, body: {} });
    expect(tenantAdmin.status).toBe(403);
    const res = await s.request('POST', '/v1/keys/root-key/rotate', { body: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.body.previousKeyId).toBe(before);
    expect(res.body.keyId).not.toBe(before);
    expect(res.body.rewrapped).toBeGreaterThanOrEqual(3);
    expect(res.body.retiredKeyIds).toEqual([before]);
    expect(s.lk.services.keyring.rootKeyId).toBe(res.body.keyId);
    const roots = await db().selectFrom('data_keys').select('root_key_id').distinct().where('retired_at', 'is', null).execute();
    expect(roots.map((r) => r.root_key_id)).toEqual([res.body.keyId]);
    await expectAllReadBack(mine);
    await expectAllReadBack(theirs);
    // New secrets after the rotation, read by the same and by a freshly started keyring.
    await updateToken(s, mine, 'user-2');
    const restarted = await openKeyring(s.lk.services.store, s.lk.config, () => undefined);
    expect(restarted.rootKeyId).toBe(res.body.keyId);
    const c = mine.connections.get('user-2')!;
    expect(await new SecretStore(restarted).read(db(), 'default', 'connection', c.uid)).toEqual(c.values);
    // The audit-chain key survived the root rotation.
    expect(restarted.derivedKey('audit-chain').equals(s.lk.services.audit.chainKey)).toBe(true);
    const verify = await s.request('POST', '/v1/audit-events/verify', { body: {} });
    expect(verify.body).toMatchObject({ ok: true, firstProblem: null });
    // The rotation itself is audited in the platform tenant.
    const events = await s.request('GET', '/v1/audit-events?action=keys.rootKey.rotate');
    expect(events.body.data[0]).toMatchObject({ outcome: 'success', resource: { type: 'root_key', id: res.body.keyId } });
  });

  it('rotateRootKey offline, twice in a row: each version rewraps everything; only the current one stays in use', async () => {
    const keyring = await openKeyring(s.lk.services.store, s.lk.config, () => undefined);
    const a = await rotateRootKey(db(), keyring, { now: new Date(), audit: s.lk.services.audit });
    const b = await rotateRootKey(db(), keyring, { now: new Date(), audit: s.lk.services.audit });
    expect(b.previousKeyId).toBe(a.keyId);
    const status = await s.request('GET', '/v1/keys');
    const states = Object.fromEntries(status.body.rootKey.versions.map((r: any) => [r.id, r.state]));
    expect(states[b.keyId]).toBe('current');
    expect(states[a.keyId]).toBe('retired');
    expect(status.body.rootKey.versions.filter((r: any) => r.state !== 'retired').map((r: any) => r.wrappedKeys)).toEqual([expect.any(Number)]);
    // The serving instance wraps new keys under the version the database names.
    const tenant = await s.newTenant('After root rotation');
    const row = await db().selectFrom('data_keys').select('root_key_id').where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
    expect(row.root_key_id).toBe(b.keyId);
    await expectAllReadBack(mine);
  });

  it('re-encrypts every secret under fresh data keys while writes continue, losing nothing, then retires the old versions', async () => {
    // Another "process": its own keyring (cold cache) on the same database.
    const keyring = await openKeyring(s.lk.services.store, s.lk.config, () => undefined);
    const ids = [...mine.connections.keys()];
    let writes = 0;
    let done = false;
    const writer = (async () => {
      // Keep writing until the re-encryption has finished, and a few more after.
      for (let i = 0; !done || i % ids.length !== 0; i++) {
        await updateToken(s, mine, ids[i % ids.length]!);
        writes++;
      }
    })();
    const result = await reencryptAll(s.lk.services.store, keyring, { batchSize: 5, audit: s.lk.services.audit }).finally(() => {
      done = true;
    });
    await writer;
    expect(result.completed).toBe(true);
    expect(writes).toBeGreaterThan(0);
    await expectAllReadBack(mine);
    await expectAllReadBack(theirs);
    for (const [tenantId, target] of Object.entries(result.targets)) {
      const stale = await db().selectFrom('secrets').select('owner_uid').where('tenant_id', '=', tenantId).where('key_version', '<', target).execute();
      expect(stale, tenantId).toEqual([]);
      const versions = await versionsOf(tenantId);
      expect(versions.filter((v) => v.version < target).every((v) => v.retired), tenantId).toBe(true);
    }
    // Retired versions keep their row (numbers are never reused) but lose the key.
    const retired = await db().selectFrom('data_keys').selectAll().where('retired_at', 'is not', null).execute();
    expect(retired.length).toBeGreaterThan(0);
    expect(retired.every((r) => r.wrapped === '')).toBe(true);
    const status = await s.request('GET', '/v1/keys');
    expect(status.body.reencryption).toBeNull();
    const current = status.body.versions.find((v: any) => v.state === 'current');
    expect(current.records).toBe(25);
    // A second run starts a new job and still leaves everything readable.
    const again = await reencryptAll(s.lk.services.store, keyring, { batchSize: 50 });
    expect(again.resumed).toBe(false);
    expect(again.reencrypted).toBeGreaterThanOrEqual(33);
    await expectAllReadBack(mine);
    const verify = await s.request('POST', '/v1/audit-events/verify', { body: {} });
    expect(verify.body.ok).toBe(true);
  });
  it('a data-key rotation in the middle of a re-encryption: batches resealed under the superseded version are redone under the new one', async () => {
    const keyring = await openKeyring(s.lk.services.store, s.lk.config, () => undefined);
    let rotations = 0;
    const result = await reencryptAll(s.lk.services.store, keyring, {
      batchSize: 4,
      onProgress: (p) => {
        // Rotate from "another instance" while batches are in flight on the worker.
        if (p.phase === 'records' && p.processed > 0 && rotations < 3) {
          rotations++;
          void s.request('POST', '/v1/keys/data-key/rotate', { body: {} });
        }
      },
    });
    expect(result.completed).toBe(true);
    expect(rotations).toBeGreaterThan(0);
    await expectAllReadBack(mine);
    const current = (await versionsOf('default')).find((v) => !v.superseded)!.version;
    expect(current).toBeGreaterThan(result.targets.default!);
    const stale = await db().selectFrom('secrets').select('owner_uid').where('tenant_id', '=', 'default').where('key_version', '<', result.targets.default!).execute();
    expect(stale).toEqual([]);
  });
});
