import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { testEngines } from '../support/postgres.js';
import { createConnection, createIntegration, createKey, dbSnapshot, expectFieldError, expectProblem } from './fixtures.js';

describe.each(await testEngines('integration-semantics.test.ts'))('integration and connection semantics (%s)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ engine });
  });
  afterAll(async () => s?.close());

  const secretRows = (ownerUids: string[]) =>
    s.lk.services.store.db.selectFrom('secrets').select(['owner_uid', 'field', 'ciphertext', 'updated_at']).where('owner_uid', 'in', ownerUids).orderBy('owner_uid').orderBy('field').execute();

  async function refused(send: () => Promise<any>, field: string) {
    const before = await dbSnapshot(s);
    expectFieldError(await send(), field);
    expect(await dbSnapshot(s)).toEqual(before);
  }

  describe('scope rules', () => {
    it('user scope needs ownerUserId; global takes neither workspace nor owner', async () => {
      await refused(() => s.request('POST', '/v1/integrations', { body: { ...githubIntegration('sc-1'), scope: 'user' } }), 'ownerUserId');
      await refused(() => s.request('POST', '/v1/integrations', { body: { ...githubIntegration('sc-1'), workspaceId: 'ws-1' } }), 'workspaceId');
      await refused(() => s.request('POST', '/v1/integrations', { body: { ...githubIntegration('sc-1'), ownerUserId: 'u-1' } }), 'ownerUserId');
      const user = await s.request('POST', '/v1/integrations', { body: { ...githubIntegration('sc-user'), scope: 'user', ownerUserId: 'u-1' } });
      expect(user.status, user.text).toBe(201);
      expect(user.body).toMatchObject({ scope: 'user', ownerUserId: 'u-1', workspaceId: null });
      // Switching to global without clearing the owner is refused; clearing it works.
      await refused(() => s.request('PATCH', '/v1/integrations/sc-user', { body: { scope: 'global', ownerUserId: 'u-1' } }), 'ownerUserId');
      const global = await s.request('PATCH', '/v1/integrations/sc-user', { body: { scope: 'global' } });
      expect(global.status, global.text).toBe(200);
      expect(global.body).toMatchObject({ scope: 'global', ownerUserId: null });
    });

    it('workspace scope defaults to the caller\'s workspace and is refused when there is none', async () => {
      await refused(() => s.request('POST', '/v1/integrations', { body: { ...githubIntegration('sc-2'), scope: 'workspace' } }), 'workspaceId');
      const ws = await createKey(s, s.adminKey, { role: 'operator', workspaceId: 'ws-7' });
      const created = await s.request('POST', '/v1/integrations', { key: ws.key, body: { ...githubIntegration('sc-ws'), scope: 'workspace' } });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({ scope: 'workspace', workspaceId: 'ws-7' });
      const explicit = await s.request('POST', '/v1/integrations', { body: { ...githubIntegration('sc-ws2'), scope: 'workspace', workspaceId: 'ws-8' } });
      expect(explicit.body.workspaceId).toBe('ws-8');
    });
  });

  describe('delete', () => {
    it('is refused with 409 connections_exist while connections exist; cascade erases them and every secret', async () => {
      const key = await createIntegration(s, s.adminKey, 'del-1');
      await createConnection(s, s.adminKey, key, 'u1');
      await createConnection(s, s.adminKey, key, 'u2');
      const intUid = (await s.request('GET', `/v1/integrations/${key}`)).body.uid;
      const connUids = (await s.request('GET', `/v1/integrations/${key}/connections`)).body.data.map((c: any) => c.uid);
      expect((await secretRows([intUid, ...connUids])).length).toBe(5);

      const before = await dbSnapshot(s);
      const blocked = await s.request('DELETE', `/v1/integrations/${key}`);
      expectProblem(blocked, 409, 'conflict');
      expect(blocked.body.reason).toBe('connections_exist');
      expect(await dbSnapshot(s)).toEqual(before);
      expectProblem(await s.request('DELETE', `/v1/integrations/${key}?cascade=false`), 409, 'conflict');

      const deleted = await s.request('DELETE', `/v1/integrations/${key}?cascade=true`);
      expect(deleted.status, deleted.text).toBe(200);
      expect(deleted.body).toEqual({ key, deleted: true, connectionsDeleted: 2 });
      expect(await secretRows([intUid, ...connUids])).toEqual([]);
      expect(await s.lk.services.store.db.selectFrom('connections').select('uid').where('uid', 'in', connUids).execute()).toEqual([]);
      expectProblem(await s.request('GET', `/v1/integrations/${key}`), 404, 'not_found');
      expectProblem(await s.request('GET', `/v1/integrations/${key}/connections/u1`), 404, 'not_found');
      // The key is free again, with nothing carried over.
      await createIntegration(s, s.adminKey, key);
      expect((await s.request('GET', `/v1/integrations/${key}/connections`)).body.data).toEqual([]);
    });

    it('deleting a connection erases its secrets only', async () => {
      const key = await createIntegration(s, s.adminKey);
      await createConnection(s, s.adminKey, key, 'gone');
      const kept = await createConnection(s, s.adminKey, key, 'kept');
      const gone = (await s.request('GET', `/v1/integrations/${key}/connections/gone`)).body.uid;
      const keptUid = (await s.request('GET', `/v1/integrations/${key}/connections/${kept}`)).body.uid;
      const keptBefore = await secretRows([keptUid]);
      expect((await s.request('DELETE', `/v1/integrations/${key}/connections/gone`)).status).toBe(200);
      expect(await secretRows([gone])).toEqual([]);
      expect(await secretRows([keptUid])).toEqual(keptBefore);
    });

    it('a delete\'s audit event names the secrets it erased (names only)', async () => {
      const key = await createIntegration(s, s.adminKey);
      await createConnection(s, s.adminKey, key, 'audited');
      const names = Object.keys((await s.request('GET', `/v1/integrations/${key}/connections/audited`)).body.credentials.hasSecrets).sort();
      expect(names.length).toBeGreaterThan(0);
      expect((await s.request('DELETE', `/v1/integrations/${key}/connections/audited`)).status).toBe(200);
      const conn = await s.request('GET', '/v1/audit-events?action=integrations.connection.delete&limit=1');
      expect(conn.body.data[0]).toMatchObject({ resource: { type: 'connection', id: `${key}/audited` }, changes: { secretsChanged: names } });
      expect((await s.request('DELETE', `/v1/integrations/${key}`)).status).toBe(200);
      const integration = await s.request('GET', '/v1/audit-events?action=integrations.integration.delete&limit=1');
      expect(integration.body.data[0].changes.secretsChanged).toEqual(['clientSecret']);
    });
  });

  describe('PUT and PATCH', () => {
    it('PUT replaces the whole non-secret body but carries secrets forward', async () => {
      const created = await s.request('POST', '/v1/integrations', {
        body: { ...githubIntegration('put-1'), description: 'old', tags: ['a'], enabled: false, allowReveal: true, config: { clientId: 'Iv1.old', scopes: 'repo' } },
      });
      const secretsBefore = await secretRows([created.body.uid]);
      const put = await s.request('PUT', '/v1/integrations/put-1', { body: { provider: 'github', displayName: 'New', config: { clientId: 'Iv1.new' } } });
      expect(put.status, put.text).toBe(200);
      expect(put.body).toMatchObject({
        uid: created.body.uid,
        displayName: 'New',
        description: null,
        tags: [],
        enabled: true,
        allowReveal: false,
        authMethod: 'oauth2',
        config: { clientId: 'Iv1.new' },
        hasSecrets: { clientSecret: true },
        version: 2,
      });
      expect(await secretRows([created.body.uid])).toEqual(secretsBefore);
      // null removes a secret; a required one cannot be removed.
      await refused(() => s.request('PUT', '/v1/integrations/put-1', { body: { provider: 'github', displayName: 'New', config: { clientId: 'x' }, secrets: { clientSecret: null } } }), 'secrets.clientSecret');
      const rotated = await s.request('PUT', '/v1/integrations/put-1', { body: { provider: 'github', displayName: 'New', config: { clientId: 'x' }, secrets: { clientSecret: 'rotated-secret' } } });
      expect(rotated.status).toBe(200);
      const after = await secretRows([created.body.uid]);
      expect(after).toHaveLength(1);
      expect(after[0]!.ciphertext).not.toBe(secretsBefore[0]!.ciphertext);
    });

    it('PATCH merges config key by key; null removes a key; required keys cannot be removed', async () => {
      await s.request('POST', '/v1/integrations', { body: { ...githubIntegration('patch-1'), config: { clientId: 'Iv1.a', scopes: 'repo' } } });
      const merged = await s.request('PATCH', '/v1/integrations/patch-1', { body: { config: { scopes: 'repo user' } } });
      expect(merged.body.config).toEqual({ clientId: 'Iv1.a', scopes: 'repo user' });
      const removed = await s.request('PATCH', '/v1/integrations/patch-1', { body: { config: { scopes: null } } });
      expect(removed.status, removed.text).toBe(200);
      expect(removed.body.config).toEqual({ clientId: 'Iv1.a' });
      expect(removed.body.hasSecrets).toEqual({ clientSecret: true });
      await refused(() => s.request('PATCH', '/v1/integrations/patch-1', { body: { config: { clientId: null } } }), 'config.clientId');
      const untouched = await s.request('PATCH', '/v1/integrations/patch-1', { body: { description: 'only this' } });
      expect(untouched.body.config).toEqual({ clientId: 'Iv1.a' });
    });

    it('changing the auth method drops secrets that no longer apply', async () => {
      const created = await s.request('POST', '/v1/integrations', { body: githubIntegration('am-1') });
      const pat = await s.request('PATCH', '/v1/integrations/am-1', { body: { authMethod: 'pat', config: { clientId: null } } });
      expect(pat.status, pat.text).toBe(200);
      expect(pat.body).toMatchObject({ authMethod: 'pat', config: {}, hasSecrets: {} });
      expect(await secretRows([created.body.uid])).toEqual([]);
    });
  });

  describe('provider config validation', () => {
    const http = (config: Record<string, unknown>, authMethod = 'api_key') => ({ key: `http-${Math.random().toString(36).slice(2, 8)}`, provider: 'http', displayName: 'HTTP', authMethod, config });

    it('refuses unknown fields, wrong types, patterns, ranges and options, naming config.<field>', async () => {
      await refused(() => s.request('POST', '/v1/integrations', { body: http({ baseUrl: 'https://api.example.com', colour: 'x' }) }), 'config.colour');
      await refused(() => s.request('POST', '/v1/integrations', { body: http({ baseUrl: 'ftp://files.example.com' }) }), 'config.baseUrl');
      await refused(() => s.request('POST', '/v1/integrations', { body: http({ baseUrl: 42 }) }), 'config.baseUrl');
      await refused(() => s.request('POST', '/v1/integrations', { body: http({}) }), 'config.baseUrl');
      // A parameter of another auth method is unknown here.
      await refused(() => s.request('POST', '/v1/integrations', { body: http({ baseUrl: 'https://a.example.com', apiKeyQueryParam: 'k' }, 'pat') }), 'config.apiKeyQueryParam');
      const oauth = { key: 'oauth-generic', provider: 'oauth2', displayName: 'Generic', secrets: { clientSecret: 's3cr3t-value' } };
      const oauthConfig = { clientId: 'c', authorizationUrl: 'https://id.example.com/auth', tokenUrl: 'https://id.example.com/token', baseUrl: 'https://api.example.com' };
      await refused(() => s.request('POST', '/v1/integrations', { body: { ...oauth, config: { ...oauthConfig, pkce: 'yes' } } }), 'config.pkce');
      await refused(() => s.request('POST', '/v1/integrations', { body: { ...oauth, config: { ...oauthConfig, tokenEndpointAuthMethod: 'carrier_pigeon' } } }), 'config.tokenEndpointAuthMethod');
      await refused(() => s.request('POST', '/v1/integrations', { body: { ...oauth, config: { ...oauthConfig, authorizationParams: 'a=b' } } }), 'config.authorizationParams');
      const ok = await s.request('POST', '/v1/integrations', { body: { ...oauth, config: oauthConfig } });
      expect(ok.status, ok.text).toBe(201);
      expect(ok.body.config).toMatchObject({ pkce: true, tokenEndpointAuthMethod: 'client_secret_basic', testPath: '/' });
    });

    it('applies defaults on integrations and connections and coerces numeric strings', async () => {
      const created = await s.request('POST', '/v1/integrations', { body: http({ baseUrl: 'https://api.example.com' }) });
      expect(created.status, created.text).toBe(201);
      expect(created.body.config).toEqual({ baseUrl: 'https://api.example.com', authHeader: 'Authorization', testPath: '/' });
      await s.request('POST', '/v1/integrations', { body: { key: 'pg', provider: 'postgresql', displayName: 'PG' } });
      const conn = await s.request('POST', '/v1/integrations/pg/connections', {
        body: { id: 'db1', config: { host: 'db.example.com', database: 'app' }, credentials: { type: 'basic', username: 'app', password: 'pw-1' } },
      });
      expect(conn.status, conn.text).toBe(201);
      expect(conn.body.config).toEqual({ host: 'db.example.com', database: 'app', port: 5432, sslMode: 'require' });
      // A new port is a new target: the credentials must come along (see credential-target.ts).
      const port = await s.request('PATCH', '/v1/integrations/pg/connections/db1', { body: { config: { port: '6432' }, credentials: { username: 'app', password: 'pw-1' } } });
      expect(port.body.config.port, port.text).toBe(6432);
      for (const [field, value] of [['port', 70000], ['port', 5.5], ['sslMode', 'maybe'], ['host', 'bad host!'], ['database', 7]] as const) {
        await refused(() => s.request('PATCH', '/v1/integrations/pg/connections/db1', { body: { config: { [field]: value } } }), `config.${field}`);
      }
      await refused(() => s.request('PATCH', '/v1/integrations/pg/connections/db1', { body: { config: { host: null } } }), 'config.host');
      await refused(() => s.request('PATCH', '/v1/integrations/pg/connections/db1', { body: { config: { password: 'pw' } } }), 'config.password');
    });
  });

  describe('connection credentials', () => {
    it('a credential type the integration\'s auth method does not allow → 422 on credentials.type', async () => {
      const key = await createIntegration(s, s.adminKey);
      for (const type of ['pat', 'basic', 'api_key', 'custom']) {
        await refused(() => s.request('POST', `/v1/integrations/${key}/connections`, { body: { id: 'c', credentials: { type, token: 't', apiKey: 'k', username: 'u' } } }), 'credentials.type');
      }
      const id = await createConnection(s, s.adminKey, key);
      await refused(() => s.request('PATCH', `/v1/integrations/${key}/connections/${id}`, { body: { credentials: { type: 'pat', token: 'ghp_x' } } }), 'credentials.type');
    });

    it('omitted credentials carry forward, null removes, and changing the type drops the old secrets', async () => {
      await s.request('POST', '/v1/integrations', { body: { key: 'sftp-1', provider: 'sftp', displayName: 'SFTP', authMethod: 'basic' } });
      const conn = await s.request('POST', '/v1/integrations/sftp-1/connections', {
        body: { id: 'box', config: { host: 'sftp.example.com' }, credentials: { type: 'basic', username: 'u', password: 'pw-old' } },
      });
      expect(conn.status, conn.text).toBe(201);
      const uid = conn.body.uid;
      const carried = await s.request('PATCH', '/v1/integrations/sftp-1/connections/box', { body: { credentials: { password: 'pw-new' } } });
      expect(carried.body.credentials).toMatchObject({ type: 'basic', hasSecrets: { username: true, password: true } });
      const cleared = await s.request('PATCH', '/v1/integrations/sftp-1/connections/box', { body: { credentials: { password: null } } });
      expect(cleared.body.credentials.hasSecrets).toEqual({ username: true, password: false });
      await s.request('PATCH', '/v1/integrations/sftp-1/connections/box', { body: { credentials: { password: 'pw-again' } } });

      const switched = await s.request('PATCH', '/v1/integrations/sftp-1', { body: { authMethod: 'key_file' } });
      expect(switched.status, switched.text).toBe(200);
      await refused(() => s.request('PATCH', '/v1/integrations/sftp-1/connections/box', { body: { credentials: { type: 'key_file', username: 'u' } } }), 'credentials.privateKey');
      const rekeyed = await s.request('PATCH', '/v1/integrations/sftp-1/connections/box', {
        body: { credentials: { type: 'key_file', username: 'u', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----' } },
      });
      expect(rekeyed.status, rekeyed.text).toBe(200);
      expect(rekeyed.body.credentials).toMatchObject({ type: 'key_file', hasSecrets: { username: true, privateKey: true, passphrase: false } });
      expect((await secretRows([uid])).map((r) => r.field)).toEqual(['privateKey', 'username']);
      const audit = await s.request('GET', '/v1/audit-events?action=integrations.connection.update&limit=1');
      expect(audit.body.data[0].changes).toEqual({ fields: ['credentials.type'], secretsChanged: ['password', 'privateKey', 'username'] });
    });
  });
});
