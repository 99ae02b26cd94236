/**
 * Root key providers behind one interface — local keys (environment, key file) and Vault
 * Transit, the latter against a local server speaking Transit's wire format — and the
 * start-up rule: a root key that cannot unwrap the stored data keys refuses to start and
 * names the key id needed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLatchkey } from '../../src/app.js';
import { type LatchkeyConfig, loadConfig } from '../../src/config.js';
import { RootKeyMismatchError } from '../../src/crypto/keyring.js';
import { rootKeyId } from '../../src/crypto/root-key.js';
import { localRootKeyProvider } from '../../src/keys/providers/local-provider.js';
import { vaultTransitProvider } from '../../src/keys/providers/vault-transit-provider.js';
import { RootKeyProviderError } from '../../src/keys/root-key-provider.js';
import { BOOTSTRAP_KEY, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { type FakeVault, startFakeVault } from './support/vault-transit-server.js';

const aad = Buffer.from('["latchkey.data-key.v1","t1",1]');
const failureOf = async (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );

describe('local root key provider', () => {
  it('wraps with AES-GCM bound to the associated data, under the version named', async () => {
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const provider = localRootKeyProvider({ keys: [k1, k2].map((key) => ({ id: rootKeyId(key), key, source: 'env' as const })), file: null }, 'env');
    expect(provider.keyIds()).toEqual([rootKeyId(k1), rootKeyId(k2)]);
    expect(provider.defaultKeyId()).toBe(rootKeyId(k2));
    const dataKey = randomBytes(32);
    const wrapped = await provider.wrap(rootKeyId(k1), dataKey, aad);
    expect((await provider.unwrap(rootKeyId(k1), wrapped, aad)).equals(dataKey)).toBe(true);
    await expect(provider.unwrap(rootKeyId(k2), wrapped, aad)).rejects.toThrow();
    await expect(provider.unwrap(rootKeyId(k1), wrapped, Buffer.from('["latchkey.data-key.v1","t2",1]'))).rejects.toThrow();
    const moved = await provider.rewrap(rootKeyId(k1), wrapped, rootKeyId(k2), aad);
    expect((await provider.unwrap(rootKeyId(k2), moved, aad)).equals(dataKey)).toBe(true);
  });

  it('environment keys: promotes a newer configured key, and cannot create one', async () => {
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const provider = localRootKeyProvider({ keys: [k1, k2].map((key) => ({ id: rootKeyId(key), key, source: 'env' as const })), file: null }, 'env');
    expect(await provider.createVersion(rootKeyId(k1))).toBe(rootKeyId(k2));
    const error = await failureOf(provider.createVersion(rootKeyId(k2)));
    expect(error).toBeInstanceOf(RootKeyProviderError);
    expect(error.message).toMatch(/LATCHKEY_ROOT_KEY/);
  });

  it('key file: appends a new version (mode 0600) and reads versions other instances added', async () => {
    const s = await startTestServer({ config: { logLevel: 'warn' } });
    try {
      const file = join(s.dataDir, 'root.key');
      const mine = localRootKeyProvider({ keys: [], file }, 'file');
      await mine.init();
      const before = mine.keyIds();
      const created = await mine.createVersion(before.at(-1)!);
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(mine.keyIds()).toEqual([...before, created]);
      // Another instance that read the file before: it finds the new version when asked for it.
      const other = localRootKeyProvider({ keys: [], file }, 'file');
      writeFileSync(file, `${readFileSync(file, 'utf8')}# a comment\n`);
      expect(await other.has(created)).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('Vault Transit provider (against a local Transit server)', () => {
  let vault: FakeVault;
  beforeAll(async () => {
    vault = await startFakeVault();
    vault.createKey('latchkey');
    vault.createKey('other');
  });
  afterAll(async () => vault?.close());
  const provider = (overrides: Partial<Parameters<typeof vaultTransitProvider>[0]> = {}) =>
    vaultTransitProvider({ addr: vault.url, token: vault.token, key: 'latchkey', ...overrides });

  it('wraps through encrypt, opens through decrypt, rewraps and rotates, always with X-Vault-Token', async () => {
    const p = provider();
    await p.init();
    const id = p.defaultKeyId();
    expect(id).toMatch(/^vault:transit\/latchkey:v\d+$/);
    const dataKey = randomBytes(32);
    const wrapped = await p.wrap(id, dataKey, aad);
    expect(wrapped).toMatch(/^vault:v\d+:/);
    expect(wrapped).not.toContain(dataKey.toString('base64'));
    expect((await p.unwrap(id, wrapped, aad)).equals(dataKey)).toBe(true);
    // Bound to its tenant and version: the same blob under other associated data is refused.
    await expect(p.unwrap(id, wrapped, Buffer.from('other'))).rejects.toThrow(/bound to another/);
    const next = await p.createVersion(id);
    expect(next).not.toBe(id);
    expect(p.keyIds()).toContain(next);
    const moved = await p.rewrap(id, wrapped, next, aad);
    expect(moved.startsWith(`vault:v${next.split(':v')[1]}:`)).toBe(true);
    expect((await p.unwrap(next, moved, aad)).equals(dataKey)).toBe(true);
    // Wrapping names its version: the old one is still used when asked for.
    expect(await p.wrap(id, dataKey, aad)).toMatch(new RegExp(`^vault:v${id.split(':v')[1]}:`));
    const paths = new Set(vault.requests.map((r) => `${r.method} ${r.path.replace(/latchkey/, ':name')}`));
    for (const path of ['GET /v1/transit/keys/:name', 'POST /v1/transit/encrypt/:name', 'POST /v1/transit/decrypt/:name', 'POST /v1/transit/rewrap/:name', 'POST /v1/transit/keys/:name/rotate']) {
      expect(paths).toContain(path);
    }
    expect(vault.requests.every((r) => r.authorized)).toBe(true);
  });

  it('reports Vault\'s own errors without ever echoing the token', async () => {
    const error = await failureOf(provider({ token: 'hvs.wrong-token-value' }).init());
    expect(error).toBeInstanceOf(RootKeyProviderError);
    expect(error.message).toMatch(/HTTP 403: permission denied/);
    expect(error.message).not.toContain('hvs.');
    const missing = await failureOf(provider({ key: 'nope' }).init());
    expect(missing.message).toMatch(/HTTP 404/);
    const unreachable = await failureOf(provider({ addr: 'http://127.0.0.1:9' }).init());
    expect(unreachable.message).toMatch(/cannot be reached/);
  });

  describe('as the root key of a server', () => {
    let s: TestServer;
    const vaultConfig = (): Partial<LatchkeyConfig> => ({ keyProvider: 'vault', vaultAddr: vault.url, vaultToken: vault.token, vaultKey: 'latchkey', logLevel: 'warn' });
    const restart = (overrides: Partial<LatchkeyConfig>) =>
      createLatchkey(loadConfig({}, { dataDir: s.dataDir, databaseUrl: s.databaseUrl, bootstrapKey: BOOTSTRAP_KEY, ...vaultConfig(), ...overrides }));

    beforeAll(async () => {
      s = await startTestServer({ config: vaultConfig() });
    });
    afterAll(async () => s?.close());

    it('wraps every data key in Vault, never writes a local root key, and rotates by rewrapping', async () => {
      expect(() => readFileSync(join(s.dataDir, 'root.key'))).toThrow();
      const created = await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-vault', 'vault-protected-secret') });
      expect(created.status, created.text).toBe(201);
      const before = await s.request('GET', '/v1/keys');
      expect(before.body.rootKey.provider).toBe('vault');
      const rotated = await s.request('POST', '/v1/keys/root-key/rotate', { body: {} });
      expect(rotated.status, rotated.text).toBe(200);
      expect(rotated.body.previousKeyId).toBe(before.body.rootKey.currentKeyId);
      expect(rotated.body.keyId).toMatch(/^vault:transit\/latchkey:v\d+$/);
      const rows = await s.lk.services.store.db.selectFrom('data_keys').selectAll().execute();
      expect(rows.every((r) => r.root_key_id === rotated.body.keyId && r.wrapped.startsWith(`vault:v${rotated.body.keyId.split(':v')[1]}:`))).toBe(true);
      const uid = (await s.lk.services.store.db.selectFrom('integrations').select('uid').where('key', '=', 'gh-vault').executeTakeFirstOrThrow()).uid;
      expect(await s.lk.services.secrets.read(s.lk.services.store.db, 'default', 'integration', uid)).toEqual({ clientSecret: 'vault-protected-secret' });
      // A second instance on the same database starts and reads it too.
      const second = await restart({});
      try {
        expect(await second.services.secrets.read(second.services.store.db, 'default', 'integration', uid)).toEqual({ clientSecret: 'vault-protected-secret' });
        expect(second.services.audit.chainKey.equals(s.lk.services.audit.chainKey)).toBe(true);
      } finally {
        await second.close();
      }
    });

    it('refuses to start with another Vault key, naming the key id needed', async () => {
      const current = (await s.request('GET', '/v1/keys')).body.rootKey.currentKeyId as string;
      const error = await failureOf(restart({ vaultKey: 'other' }));
      expect(error).toBeInstanceOf(RootKeyMismatchError);
      expect(error.message).toContain(current);
      expect(error.message).not.toContain(vault.token);
    });

    it('refuses to start when Vault no longer decrypts the version in use (min_decryption_version raised)', async () => {
      const current = (await s.request('GET', '/v1/keys')).body.rootKey.currentKeyId as string;
      const version = Number(current.split(':v')[1]);
      vault.setMinDecryptionVersion('latchkey', version + 1);
      try {
        const error = await failureOf(restart({}));
        expect(error.message).toContain(current);
      } finally {
        vault.setMinDecryptionVersion('latchkey', 1);
      }
    });

    it('refuses to start while Vault is sealed, saying so', async () => {
      vault.seal(true);
      try {
        const error = await failureOf(restart({}));
        expect(error.message).toMatch(/Vault .*(503|sealed)/);
      } finally {
        vault.seal(false);
      }
    });
  });
});

describe('start-up with the wrong local root key', () => {
  let s: TestServer;
  let needed: string;
  beforeAll(async () => {
    s = await startTestServer({ config: { logLevel: 'warn' } });
    await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-wrong-key') });
    needed = s.lk.services.keyring.rootKeyId;
    await s.lk.close();
  });
  afterAll(async () => s?.close().catch(() => undefined));
  const start = (overrides: Partial<LatchkeyConfig>) =>
    createLatchkey(loadConfig({}, { dataDir: s.dataDir, databaseUrl: s.databaseUrl, logLevel: 'warn', ...overrides }));

  it('refuses LATCHKEY_ROOT_KEY with another key, naming the key id needed (and never a key)', async () => {
    const wrong = randomBytes(32).toString('base64');
    const error = await failureOf(start({ rootKey: wrong, keyProvider: 'env' }));
    expect(error).toBeInstanceOf(RootKeyMismatchError);
    expect((error as RootKeyMismatchError).needed).toEqual([needed]);
    expect(error.message).toContain(needed);
    expect(error.message).not.toContain(wrong);
  });

  it('refuses a key file without the key in use, and starts with a key file holding old and new versions', async () => {
    const file = join(s.dataDir, 'other.key');
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const error = await failureOf(start({ rootKeyFile: file }));
    expect(error.message).toContain(needed);
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n${readFileSync(join(s.dataDir, 'root.key'), 'utf8')}`, { mode: 0o600 });
    const lk = await start({ rootKeyFile: file });
    await lk.close();
  });

  it('the CLI refuses too, with the key id in its message', async () => {
    const { spawnSync } = await import('node:child_process');
    const cli = join(import.meta.dirname, '../../src/cli/main.ts');
    const out = spawnSync(process.execPath, ['--import', 'tsx', cli, 'keys', 'status', '--data-dir', s.dataDir], {
      env: { ...process.env, LATCHKEY_ROOT_KEY: randomBytes(32).toString('base64'), LATCHKEY_LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain(needed);
  }, 30_000);
});
