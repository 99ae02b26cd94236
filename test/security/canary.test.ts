/**
 * Canary tests (SPEC 2.1): a distinct random value is planted in every secret field the
 * API accepts, on create and on update, then every read, list, update, delete and error
 * path is exercised. No canary may appear in any response, log line (at trace level),
 * audit event, the OpenAPI document or docs, or any plaintext column of the database.
 * Positive controls show that each scan does find a planted non-secret marker.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { BOOTSTRAP_KEY, type EngineName, type RequestOptions, type TestResponse, type TestServer, startTestServer } from '../support/harness.js';
import { testEngines } from '../support/postgres.js';

const engines: EngineName[] = await testEngines('canary.test.ts');

/** The forms a leaked value could take: as is, hex, and base64/base64url at every alignment. */
function variantsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out = new Set([value, bytes.toString('hex')]);
  for (let offset = 0; offset < 3; offset++) {
    const n = Math.floor((bytes.length - offset) / 3) * 3;
    if (n < 12) continue;
    const chunk = bytes.subarray(offset, offset + n);
    out.add(chunk.toString('base64'));
    out.add(chunk.toString('base64url'));
  }
  return [...out];
}

/** Which of the values occur (in any form) in the text. */
function found(text: string, values: Iterable<string>): string[] {
  const hits: string[] = [];
  for (const value of values) if (variantsOf(value).some((v) => text.includes(v))) hits.push(value);
  return hits;
}

interface Recorded {
  label: string;
  status: number;
  text: string;
  headers: string;
  /** A response that legitimately shows a new API key once (or replays it). */
  showsKey: boolean;
}

describe.each(engines)('canaries never leave through any surface (%s)', (engine) => {
  let s: TestServer;
  /** Planted secret values. */
  const canaries = new Set<string>();
  /** API keys: shown once in their creation response, nowhere else. */
  const apiKeys = new Set<string>([BOOTSTRAP_KEY]);
  const responses: Recorded[] = [];
  /** Secret values that must be stored (decryptable) afterwards, per record. */
  const expectStored: { kind: 'integration' | 'connection'; uid: () => string; values: Record<string, string> }[] = [];
  /** A non-secret marker planted in ids, metadata and display names: every scan must find it. */
  const marker = `marker${randomBytes(10).toString('hex')}`;
  let otherTenantKey = '';
  let viewerKey = '';
  let runtimeKey = '';
  /** A provider on loopback for the proxied (OAuth 1.0a signed) calls: answers 200 without echoing anything. */
  let provider: Server;
  let providerUrl = '';
  const providerSaw: { url: string; headers: IncomingHttpHeaders }[] = [];

  const canary = (field: string): string => {
    const value = `CANARY-${field}-${randomBytes(16).toString('hex')}`;
    canaries.add(value);
    return value;
  };

  async function req(label: string, method: string, path: string, opts: RequestOptions = {}, showsKey = false): Promise<TestResponse> {
    const res = await s.request(method, path, opts);
    responses.push({ label, status: res.status, text: res.text, headers: JSON.stringify(res.headers), showsKey });
    return res;
  }
  async function expectStatus(label: string, status: number, method: string, path: string, opts: RequestOptions = {}, showsKey = false): Promise<TestResponse> {
    const res = await req(label, method, path, opts, showsKey);
    expect(res.status, `${label}: ${res.text}`).toBe(status);
    return res;
  }

  beforeAll(async () => {
    s = await startTestServer({ engine, config: { logLevel: 'trace', oauthTimeoutMs: 1000 } });
    const other = await s.newTenant('Canary other tenant');
    otherTenantKey = other.adminKey;
    apiKeys.add(otherTenantKey);
    viewerKey = await s.newKey('viewer');
    runtimeKey = await s.newKey('runtime');
    apiKeys.add(viewerKey);
    apiKeys.add(runtimeKey);
    provider = createServer((req, res) => {
      providerSaw.push({ url: req.url ?? '', headers: req.headers });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await s?.close();
    provider?.closeAllConnections();
    await new Promise<void>((resolve) => (provider ? provider.close(() => resolve()) : resolve()));
  });

  it('accepts canaries in every secret field, on create and update, and exercises every path', async () => {
    // ---- integrations with secrets, on create (one with an Idempotency-Key) ----
    const gh1 = canary('gh.clientSecret');
    const ghBody = (secret: string) => ({
      key: 'gh',
      provider: 'github',
      displayName: `GitHub ${marker}`,
      authMethod: 'oauth2',
      config: { clientId: 'Iv1.canary' },
      secrets: { clientSecret: secret },
    });
    const gh = await expectStatus('create gh (idempotent)', 201, 'POST', '/v1/integrations', { body: ghBody(gh1), headers: { 'idempotency-key': 'idem-gh' } });
    expect(gh.body.hasSecrets).toEqual({ clientSecret: true });
    const replay = await expectStatus('replay create gh', 201, 'POST', '/v1/integrations', { body: ghBody(gh1), headers: { 'idempotency-key': 'idem-gh' } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    await expectStatus('reuse idempotency key with other secret', 422, 'POST', '/v1/integrations', { body: ghBody(canary('gh.reuse')), headers: { 'idempotency-key': 'idem-gh' } });
    await expectStatus('duplicate gh', 409, 'POST', '/v1/integrations', { body: ghBody(canary('gh.dup')) });

    const integrationDefs: [string, Record<string, unknown>][] = [
      ['ms-cc', { provider: 'microsoft', authMethod: 'oauth2_client_credentials', config: { clientId: 'ms-client' }, secrets: { clientSecret: canary('ms.clientSecret') } }],
      [
        'o2-pw',
        {
          provider: 'oauth2',
          authMethod: 'oauth2_password',
          config: { tokenUrl: 'https://auth.example.com/token', baseUrl: 'https://api.example.com', clientId: 'o2-client' },
          secrets: { clientSecret: canary('o2.clientSecret') },
        },
      ],
      ['http-key', { provider: 'http', authMethod: 'api_key', config: { baseUrl: 'https://api.example.com' } }],
      ['http-pat', { provider: 'http', authMethod: 'pat', config: { baseUrl: 'https://api.example.com' } }],
      [
        'http-oauth1',
        { provider: 'http', authMethod: 'oauth1', config: { baseUrl: providerUrl, consumerKey: 'oauth1-consumer' }, secrets: { consumerSecret: canary('oauth1.consumerSecret') }, networkAllowList: ['127.0.0.1'] },
      ],
      ['pg', { provider: 'postgresql', authMethod: 'basic' }],
      ['sftp-kf', { provider: 'sftp', authMethod: 'key_file' }],
      ['ses', { provider: 'aws_ses', authMethod: 'custom' }],
    ];
    const integrationUid: Record<string, string> = { gh: gh.body.uid };
    for (const [key, def] of integrationDefs) {
      const res = await expectStatus(`create ${key}`, 201, 'POST', '/v1/integrations', { body: { key, displayName: `${key} ${marker}`, ...def } });
      integrationUid[key] = res.body.uid;
    }

    // ---- integration updates: PATCH and PUT with new secrets, and their error paths ----
    const gh2 = canary('gh.clientSecret.patch');
    await expectStatus('patch gh secret', 200, 'PATCH', '/v1/integrations/gh', { body: { secrets: { clientSecret: gh2 } }, headers: { 'if-match': '"1"' } });
    await expectStatus('patch gh stale if-match', 412, 'PATCH', '/v1/integrations/gh', { body: { secrets: { clientSecret: canary('gh.412') } }, headers: { 'if-match': '"1"' } });
    const gh3 = canary('gh.clientSecret.put');
    await expectStatus('put gh secret', 200, 'PUT', '/v1/integrations/gh', { body: { ...ghBody(gh3), key: undefined }, headers: { 'if-match': '"2"' } });
    await expectStatus('put gh stale if-match', 412, 'PUT', '/v1/integrations/gh', { body: { ...ghBody(canary('gh.put412')), key: undefined }, headers: { 'if-match': '"1"' } });
    await expectStatus('patch gh carry-forward', 200, 'PATCH', '/v1/integrations/gh', { body: { description: `carried ${marker}` } });
    expectStored.push({ kind: 'integration', uid: () => integrationUid.gh!, values: { clientSecret: gh3 } });
    const ms2 = canary('ms.clientSecret.patch');
    await expectStatus('patch ms-cc secret', 200, 'PATCH', '/v1/integrations/ms-cc', { body: { secrets: { clientSecret: ms2 } } });
    expectStored.push({ kind: 'integration', uid: () => integrationUid['ms-cc']!, values: { clientSecret: ms2 } });
    const o2 = canary('o2.clientSecret.put');
    await expectStatus('put o2-pw secret', 200, 'PUT', '/v1/integrations/o2-pw', {
      body: {
        provider: 'oauth2',
        displayName: `o2 ${marker}`,
        authMethod: 'oauth2_password',
        config: { tokenUrl: 'https://auth.example.com/token', baseUrl: 'https://api.example.com', clientId: 'o2-client' },
        secrets: { clientSecret: o2 },
      },
    });
    expectStored.push({ kind: 'integration', uid: () => integrationUid['o2-pw']!, values: { clientSecret: o2 } });
    const consumerSecret = canary('oauth1.consumerSecret.patch');
    await expectStatus('patch http-oauth1 secret', 200, 'PATCH', '/v1/integrations/http-oauth1', { body: { secrets: { consumerSecret } } });
    expectStored.push({ kind: 'integration', uid: () => integrationUid['http-oauth1']!, values: { consumerSecret } });

    // Validation errors that name fields: the values must never come back.
    const integrationErrors: [string, number, string, string, Record<string, unknown>][] = [
      ['unknown secret name', 422, 'POST', '/v1/integrations', { ...ghBody(canary('x')), key: 'gh-x', secrets: { bogusSecret: canary('unknown.secret.name') } }],
      ['mask-like secret (***…***)', 422, 'POST', '/v1/integrations', { ...ghBody(`***${canary('mask.stars')}***`), key: 'gh-mask' }],
      ['mask-like secret (n8n)', 422, 'PATCH', '/v1/integrations/gh', { secrets: { clientSecret: `__n8n_blank_value_${canary('mask.n8n')}` } }],
      ['mask-like secret (PUT)', 422, 'PUT', '/v1/integrations/gh', { ...ghBody(`***${canary('mask.put')}***`), key: undefined }],
      ['secret sent as config', 422, 'POST', '/v1/integrations', { ...ghBody(canary('y')), key: 'gh-cfg', config: { clientId: 'c', clientSecret: canary('secret.in.config') } }],
      ['unknown config field', 422, 'PATCH', '/v1/integrations/gh', { config: { notAParameter: canary('unknown.config') } }],
      ['secret at top level', 422, 'POST', '/v1/integrations', { ...ghBody(canary('z')), key: 'gh-top', clientSecret: canary('top.level') }],
      ['secrets not an object', 422, 'POST', '/v1/integrations', { ...ghBody('unused-value-1'), key: 'gh-str', secrets: canary('secrets.string') }],
      ['secret not a string', 422, 'PATCH', '/v1/integrations/gh', { secrets: { clientSecret: [canary('secret.array')] } }],
      ['secret too long', 422, 'PATCH', '/v1/integrations/gh', { secrets: { clientSecret: canary('too.long') + 'x'.repeat(70_000) } }],
      ['required secret removed', 422, 'PATCH', '/v1/integrations/gh', { secrets: { clientSecret: null } }],
      ['secret for auth method without secrets', 422, 'PATCH', '/v1/integrations/http-key', { secrets: { clientSecret: canary('pat.secret') } }],
      ['missing integration (PATCH)', 404, 'PATCH', '/v1/integrations/nope', { secrets: { clientSecret: canary('404.patch') } }],
      ['missing integration (PUT)', 404, 'PUT', '/v1/integrations/nope', { ...ghBody(canary('404.put')), key: undefined }],
    ];
    for (const [label, status, method, path, body] of integrationErrors) await expectStatus(label, status, method, path, { body });

    // ---- connections of every credential type, created with canaries ----
    const connections: { key: string; id: string; credentials: Record<string, unknown>; secretFields: string[] }[] = [
      {
        key: 'gh',
        id: `u-oauth2-${marker}`,
        credentials: { type: 'oauth2', accessToken: canary('oauth2.accessToken'), refreshToken: canary('oauth2.refreshToken'), expiresAt: '2031-01-01T00:00:00Z', scopes: ['repo'], tokenType: 'bearer' },
        secretFields: ['accessToken', 'refreshToken'],
      },
      { key: 'ms-cc', id: 'u-cc', credentials: { type: 'oauth2_client_credentials', accessToken: canary('cc.accessToken') }, secretFields: ['accessToken'] },
      {
        key: 'o2-pw',
        id: 'u-pw',
        credentials: { type: 'oauth2_password', username: canary('ropc.username'), password: canary('ropc.password'), accessToken: canary('ropc.accessToken'), refreshToken: canary('ropc.refreshToken') },
        secretFields: ['username', 'password', 'accessToken', 'refreshToken'],
      },
      { key: 'http-key', id: 'u-key', credentials: { type: 'api_key', apiKey: canary('api_key.apiKey') }, secretFields: ['apiKey'] },
      { key: 'http-pat', id: 'u-pat', credentials: { type: 'pat', token: canary('pat.token') }, secretFields: ['token'] },
      { key: 'http-oauth1', id: 'u-o1', credentials: { type: 'oauth1', token: canary('oauth1.token'), tokenSecret: canary('oauth1.tokenSecret') }, secretFields: ['token', 'tokenSecret'] },
      { key: 'pg', id: 'u-basic', credentials: { type: 'basic', username: canary('basic.username'), password: canary('basic.password') }, secretFields: ['username', 'password'] },
      {
        key: 'sftp-kf',
        id: 'u-kf',
        credentials: {
          type: 'key_file',
          username: canary('key_file.username'),
          privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${canary('key_file.privateKey')}\n-----END OPENSSH PRIVATE KEY-----\n`,
          passphrase: canary('key_file.passphrase'),
        },
        secretFields: ['username', 'privateKey', 'passphrase'],
      },
      {
        key: 'ses',
        id: 'u-aws',
        credentials: { type: 'aws_sigv4', accessKeyId: canary('aws.accessKeyId'), secretAccessKey: canary('aws.secretAccessKey'), sessionToken: canary('aws.sessionToken') },
        secretFields: ['accessKeyId', 'secretAccessKey', 'sessionToken'],
      },
    ];
    const configOf: Record<string, Record<string, unknown>> = {
      pg: { host: 'db.example.com', database: 'app' },
      'sftp-kf': { host: 'sftp.example.com' },
      ses: { region: 'eu-west-1' },
    };
    const connectionUid: Record<string, string> = {};
    for (const c of connections) {
      const base = `/v1/integrations/${c.key}/connections`;
      const body = { id: c.id, config: configOf[c.key] ?? {}, metadata: { note: marker }, credentials: c.credentials };
      const created = await expectStatus(`create connection ${c.key}`, 201, 'POST', base, { body, headers: { 'idempotency-key': `idem-con-${c.key}` } });
      connectionUid[c.key] = created.body.uid;
      expect(Object.entries(created.body.credentials.hasSecrets).filter(([, v]) => v).map(([k]) => k).sort()).toEqual([...c.secretFields].sort());
      const replayed = await expectStatus(`replay connection ${c.key}`, 201, 'POST', base, { body, headers: { 'idempotency-key': `idem-con-${c.key}` } });
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      await expectStatus(`duplicate connection ${c.key}`, 409, 'POST', base, { body: { ...body, credentials: { ...c.credentials, [c.secretFields[0]!]: canary(`${c.key}.dup`) } } });
      await expectStatus(`unknown credential field ${c.key}`, 422, 'POST', base, { body: { ...body, id: `${c.id}-x`, credentials: { ...c.credentials, notAField: canary(`${c.key}.unknown`) } } });
      await expectStatus(`mask-like credential ${c.key}`, 422, 'POST', base, {
        body: { ...body, id: `${c.id}-m`, credentials: { ...c.credentials, [c.secretFields[0]!]: `***${canary(`${c.key}.mask`)}***` } },
      });

      // Update every secret field with a fresh canary (with If-Match), then the error paths.
      const rotated: Record<string, string> = {};
      for (const field of c.secretFields) rotated[field] = field === 'privateKey' ? `-----BEGIN KEY-----\n${canary(`${c.key}.${field}.patch`)}\n-----END KEY-----` : canary(`${c.key}.${field}.patch`);
      const path = `${base}/${c.id}`;
      await expectStatus(`patch connection ${c.key}`, 200, 'PATCH', path, { body: { credentials: rotated }, headers: { 'if-match': '"1"' } });
      await expectStatus(`patch connection ${c.key} stale`, 412, 'PATCH', path, { body: { credentials: { [c.secretFields[0]!]: canary(`${c.key}.412`) } }, headers: { 'if-match': '"1"' } });
      await expectStatus(`patch connection ${c.key} mask`, 422, 'PATCH', path, { body: { credentials: { [c.secretFields.at(-1)!]: `__n8n_blank_value_${canary(`${c.key}.mask2`)}` } } });
      await expectStatus(`patch connection ${c.key} unknown field`, 422, 'PATCH', path, { body: { credentials: { bogus: canary(`${c.key}.bogus`) } } });
      await expectStatus(`patch connection ${c.key} non-string`, 422, 'PATCH', path, { body: { credentials: { [c.secretFields[0]!]: [canary(`${c.key}.array`)] } } });
      if (c.credentials.type !== 'oauth1') {
        await expectStatus(`patch connection ${c.key} oauth1`, 422, 'PATCH', path, { body: { credentials: { type: 'oauth1', token: canary(`${c.key}.oauth1.token`), tokenSecret: canary(`${c.key}.oauth1.secret`) } } });
      }
      await expectStatus(`patch missing connection ${c.key}`, 404, 'PATCH', `${base}/missing-${c.id}`, { body: { credentials: rotated } });
      await expectStatus(`patch connection ${c.key} carry-forward`, 200, 'PATCH', path, { body: { metadata: { note: marker, step: 2 } } });
      const uid = connectionUid[c.key]!;
      expectStored.push({ kind: 'connection', uid: () => uid, values: rotated });
    }
    // Removing an optional secret with null, and a required one (refused).
    await expectStatus('null removes refreshToken', 200, 'PATCH', `/v1/integrations/gh/connections/u-oauth2-${marker}`, { body: { credentials: { refreshToken: null } } });
    expectStored.find((e) => e.uid() === connectionUid.gh)!.values = Object.fromEntries(Object.entries(expectStored.find((e) => e.uid() === connectionUid.gh)!.values).filter(([k]) => k !== 'refreshToken'));
    await expectStatus('null on required accessToken', 422, 'PATCH', `/v1/integrations/gh/connections/u-oauth2-${marker}`, { body: { credentials: { accessToken: null, refreshToken: canary('with.required.null') } } });
    await expectStatus('oauth1 credentials on an api_key integration', 422, 'POST', '/v1/integrations/http-key/connections', {
      body: { id: 'u-oauth1', credentials: { type: 'oauth1', token: canary('oauth1.token'), tokenSecret: canary('oauth1.tokenSecret') } },
    });
    await expectStatus('wrong credential type for integration', 422, 'POST', '/v1/integrations/http-pat/connections', { body: { id: 'u-wrong', credentials: { type: 'api_key', apiKey: canary('wrong.type') } } });
    await expectStatus('missing required credential', 422, 'POST', '/v1/integrations/sftp-kf/connections', {
      body: { id: 'u-kf-missing', config: { host: 'h.example.com' }, credentials: { type: 'key_file', username: canary('missing.username'), passphrase: canary('missing.passphrase') } },
    });
    await expectStatus('credentials not an object', 422, 'POST', '/v1/integrations/http-key/connections', { body: { id: 'u-str', credentials: canary('credentials.string') } });
    await expectStatus('connection under missing integration', 404, 'POST', '/v1/integrations/nope/connections', { body: { id: 'u', credentials: { type: 'api_key', apiKey: canary('404.connection') } } });

    // ---- authorization failures, other tenants, transport errors ----
    await expectStatus('viewer creates integration', 403, 'POST', '/v1/integrations', { key: viewerKey, body: { ...ghBody(canary('viewer.secret')), key: 'gh-viewer' } });
    await expectStatus('runtime creates connection', 403, 'POST', '/v1/integrations/http-key/connections', { key: runtimeKey, body: { id: 'rt', credentials: { type: 'api_key', apiKey: canary('runtime.apiKey') } } });
    await expectStatus('other tenant patches gh', 404, 'PATCH', '/v1/integrations/gh', { key: otherTenantKey, body: { secrets: { clientSecret: canary('other.tenant') } } });
    await expectStatus('other tenant adds connection', 404, 'POST', '/v1/integrations/gh/connections', { key: otherTenantKey, body: { id: 'x', credentials: { type: 'oauth2', accessToken: canary('other.tenant.token') } } });
    await expectStatus('other tenant reads connection', 404, 'GET', `/v1/integrations/gh/connections/u-oauth2-${marker}`, { key: otherTenantKey });
    await expectStatus('malformed JSON', 400, 'POST', '/v1/integrations', { raw: `{"key":"gh-bad","secrets":{"clientSecret":"${canary('malformed.json')}"` });
    await expectStatus('trailing garbage JSON', 400, 'PATCH', '/v1/integrations/gh', { raw: `{"secrets":{"clientSecret":"${canary('trailing.json')}"}} ,` });
    await expectStatus('wrong content type', 415, 'POST', '/v1/integrations', { raw: `clientSecret=${canary('form.body')}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await expectStatus('body too large', 413, 'POST', '/v1/integrations', { raw: JSON.stringify({ ...ghBody(canary('too.large')), pad: 'p'.repeat(1_100_000) }) });
    await expectStatus('unknown bearer key', 401, 'GET', '/v1/integrations', { key: canary('bearer.key') });
    await expectStatus('unknown X-API-Key', 401, 'GET', '/v1/integrations', { key: null, headers: { 'x-api-key': canary('x-api-key') } });
    await expectStatus('no route', 404, 'POST', '/v1/nowhere', { body: { secret: canary('no.route') } });

    // ---- API keys and tenants: shown once, then never again ----
    const created = await expectStatus('create api key', 201, 'POST', '/v1/api-keys', { body: { name: `k ${marker}`, role: 'operator' }, headers: { 'idempotency-key': 'idem-key' } }, true);
    apiKeys.add(created.body.key);
    await expectStatus('replay api key', 201, 'POST', '/v1/api-keys', { body: { name: `k ${marker}`, role: 'operator' }, headers: { 'idempotency-key': 'idem-key' } }, true);
    const tenant = await expectStatus('create tenant', 201, 'POST', '/v1/tenants', { body: { name: `t ${marker}` } }, true);
    apiKeys.add(tenant.body.adminKey);
    await expectStatus('use new key', 200, 'GET', '/v1/integrations', { key: created.body.key });
    await expectStatus('list api keys', 200, 'GET', '/v1/api-keys?includeRevoked=true');
    await expectStatus('revoke api key', 200, 'DELETE', `/v1/api-keys/${created.body.apiKey.id}`);
    await expectStatus('revoked key refused', 401, 'GET', '/v1/integrations', { key: created.body.key });

    // ---- every read path ----
    for (const key of Object.keys(integrationUid)) {
      await expectStatus(`get ${key}`, 200, 'GET', `/v1/integrations/${key}`);
      await expectStatus(`list connections of ${key}`, 200, 'GET', `/v1/integrations/${key}/connections?limit=200`);
    }
    for (const c of connections) await expectStatus(`get connection ${c.key}`, 200, 'GET', `/v1/integrations/${c.key}/connections/${c.id}`, { key: runtimeKey });
    await expectStatus('list integrations', 200, 'GET', '/v1/integrations?limit=200');
    await expectStatus('list integrations filtered', 200, 'GET', '/v1/integrations?provider=github&scope=global&enabled=true');
    const page1 = await expectStatus('list integrations page', 200, 'GET', '/v1/integrations?limit=2');
    await expectStatus('list integrations page 2', 200, 'GET', `/v1/integrations?limit=2&cursor=${page1.body.nextCursor}`);
    for (const status of ['active', 'expired', 'error', 'disabled']) await expectStatus(`list connections ${status}`, 200, 'GET', `/v1/connections?status=${status}`);
    await expectStatus('list all connections', 200, 'GET', '/v1/connections?limit=200', { key: viewerKey });
    await expectStatus('list providers', 200, 'GET', '/v1/providers?limit=200');
    await expectStatus('get provider', 200, 'GET', '/v1/providers/sftp');
    await expectStatus('list tenants', 200, 'GET', '/v1/tenants');
    await expectStatus('openapi', 200, 'GET', '/openapi.json');
    await expectStatus('docs', 200, 'GET', '/docs');
    await expectStatus('docs script', 200, 'GET', '/docs/app.js');
    await expectStatus('healthz', 200, 'GET', '/healthz');
    await expectStatus('readyz', 200, 'GET', '/readyz');

    // ---- OAuth, webhook and metrics surfaces: none may echo a stored secret ----
    // The token endpoints here are unreachable: the refreshes fail (and retry) with the stored
    // refresh tokens and passwords in hand, which is exactly when an error could leak them.
    const oauthConnection = (key: string) => connections.find((c) => c.key === key)!;
    await expectStatus('connect session', 201, 'POST', '/v1/connect/sessions', { body: { integration: 'gh', connectionId: `${marker}-connect`, redirectUrl: 'https://app.example.com/done' } });
    for (const c of [oauthConnection('gh'), oauthConnection('o2-pw')]) {
      const refreshed = await req(`refresh ${c.key}`, 'POST', `/v1/integrations/${c.key}/connections/${c.id}/refresh`);
      expect([200, 409, 502, 504], `refresh ${c.key}: ${refreshed.text}`).toContain(refreshed.status);
    }
    await expectStatus('verify client credentials', 200, 'POST', '/v1/integrations/ms-cc/verify');
    await expectStatus('create webhook', 201, 'POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/canary', events: ['connection.updated'] } });
    await expectStatus('list webhooks', 200, 'GET', '/v1/webhooks');
    await expectStatus('metrics', 200, 'GET', '/metrics');
    // Who am I: the caller's key described (id, name, prefix), never the key itself.
    const me = await expectStatus('who am I', 200, 'GET', '/v1/me', { key: runtimeKey });
    expect(me.body.key.prefix.length).toBeGreaterThan(0);

    // ---- the proxy and the connection test sign with every OAuth 1.0a secret in hand ----
    const o1 = `/v1/proxy/http-oauth1/u-o1/statuses/${marker}`;
    await expectStatus('proxy oauth1 GET', 200, 'GET', `${o1}?q=${marker}+x&n=1`, { key: runtimeKey });
    await expectStatus('proxy oauth1 form POST', 200, 'POST', o1, { raw: `status=${marker}&n=2`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await expectStatus('proxy oauth1 own oauth_ parameter', 400, 'GET', `${o1}?oauth_token=${canary('oauth1.forged')}`);
    const tested = await expectStatus('test oauth1 connection', 200, 'POST', '/v1/integrations/http-oauth1/connections/u-o1/test');
    expect(tested.body.ok, tested.text).toBe(true);
    expect(providerSaw.length).toBe(3);
    for (const seen of providerSaw) expect(seen.headers.authorization).toMatch(/^OAuth oauth_consumer_key="oauth1-consumer", /);

    // ---- deletes (with their error paths) ----
    await expectStatus('delete blocked by connections', 409, 'DELETE', '/v1/integrations/gh');
    await expectStatus('delete with stale if-match', 412, 'DELETE', '/v1/integrations/pg', { headers: { 'if-match': '"7"' } });
    await expectStatus('delete connection', 200, 'DELETE', '/v1/integrations/http-pat/connections/u-pat');
    await expectStatus('delete connection again', 404, 'DELETE', '/v1/integrations/http-pat/connections/u-pat');
    await expectStatus('cascade delete', 200, 'DELETE', '/v1/integrations/http-key?cascade=true');
    expectStored.splice(
      0,
      expectStored.length,
      ...expectStored.filter((e) => e.uid() !== connectionUid['http-pat'] && e.uid() !== connectionUid['http-key']),
    );
    expect(expectStored.length).toBeGreaterThanOrEqual(9);
    await expectStatus('verify audit chain', 200, 'POST', '/v1/audit-events/verify');
  });

  it('stored every accepted canary, encrypted (the scans below look for real data)', async () => {
    const { secrets, store } = s.lk.services;
    for (const e of expectStored) expect(await secrets.read(store.db, 'default', e.kind, e.uid())).toEqual(e.values);
    // Deleted records took their secrets with them. (The webhook's signing secret is the one
    // other secret here: generated by the server, not planted.)
    const orphans = await store.db
      .selectFrom('secrets')
      .select('owner_uid')
      .where('owner_uid', 'not in', [...expectStored.map((e) => e.uid())])
      .where('owner_kind', '!=', 'webhook')
      .execute();
    expect(orphans).toEqual([]);
    expect(canaries.size).toBeGreaterThan(80);
  });

  it('no response body or header carries a canary or an API key (except the one response showing a new key)', () => {
    expect(responses.length).toBeGreaterThan(100);
    expect(responses.some((r) => r.text.includes(marker)), 'positive control: the marker is returned').toBe(true);
    for (const r of responses) {
      expect(found(r.text, canaries), `${r.label} body`).toEqual([]);
      expect(found(r.headers, canaries), `${r.label} headers`).toEqual([]);
      expect(found(r.headers, apiKeys), `${r.label} headers (keys)`).toEqual([]);
      if (!r.showsKey) expect(found(r.text, apiKeys), `${r.label} body (keys)`).toEqual([]);
      expect(r.text, `${r.label}: no stack trace`).not.toMatch(/\bat .+\.(ts|js):\d+/);
    }
    // The key-showing responses show exactly their own key.
    const shown = responses.filter((r) => r.showsKey);
    expect(shown).toHaveLength(3);
    for (const r of shown) expect(found(r.text, apiKeys)).toHaveLength(1);
  });

  it('422s name the offending field (a mask-like canary, an unknown secret name) but never echo its value', () => {
    const byLabel = (label: string) => responses.find((r) => r.label === label)!;
    const cases: [string, string][] = [
      ['unknown secret name', 'secrets.bogusSecret'],
      ['mask-like secret (***…***)', 'secrets.clientSecret'],
      ['mask-like secret (n8n)', 'secrets.clientSecret'],
      ['secret sent as config', 'config.clientSecret'],
      ['unknown credential field gh', 'credentials.notAField'],
      ['mask-like credential gh', 'credentials.accessToken'],
      ['patch connection sftp-kf mask', 'credentials.passphrase'],
    ];
    for (const [label, path] of cases) {
      const r = byLabel(label);
      expect(r.status, label).toBe(422);
      const body = JSON.parse(r.text) as { errors?: { path: string }[] };
      expect(body.errors?.map((e) => e.path), label).toContain(path);
      expect(found(r.text, canaries), label).toEqual([]);
    }
  });

  it('no log line (at trace level) carries a canary or an API key', () => {
    const logs = s.logs.join('\n');
    expect(s.logs.length).toBeGreaterThan(100);
    expect(s.lk.logger.level).toBe('trace');
    expect(logs, 'positive control: request paths are logged').toContain(marker);
    expect(found(logs, canaries)).toEqual([]);
    expect(found(logs, apiKeys)).toEqual([]);
  });

  it('no audit event carries a canary — through the API and in the raw table', async () => {
    const events: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: TestResponse = await s.request('GET', `/v1/audit-events?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, page.text).toBe(200);
      events.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    const viaApi = JSON.stringify(events);
    expect(events.length).toBeGreaterThan(100);
    expect(viaApi, 'positive control').toContain(marker);
    expect(viaApi).toContain('"secretsChanged":["clientSecret"]');
    expect(found(viaApi, canaries)).toEqual([]);
    expect(found(viaApi, apiKeys)).toEqual([]);
    const raw = JSON.stringify(await s.lk.services.store.db.selectFrom('audit_events').selectAll().execute());
    expect(raw).toContain(marker);
    expect(found(raw, canaries)).toEqual([]);
    expect(found(raw, apiKeys)).toEqual([]);
    // Denied and failed calls are recorded too, without their values.
    expect(viaApi).toContain('"outcome":"denied"');
    expect(viaApi).toContain('"outcome":"error"');
  });

  it('the OpenAPI document and the docs carry no canary', async () => {
    for (const path of ['/openapi.json', '/docs', '/docs/app.js']) {
      const res = await s.request('GET', path, { key: null });
      expect(res.status).toBe(200);
      expect(res.text.length).toBeGreaterThan(100);
      expect(found(res.text, canaries), path).toEqual([]);
      expect(found(res.text, apiKeys), path).toEqual([]);
    }
  });

  it('no plaintext column of the database carries a canary or an API key', async () => {
    const db = s.lk.services.store.db;
    const tables = ['tenants', 'api_keys', 'data_keys', 'integrations', 'connections', 'secrets', 'audit_events', 'idempotency_keys'];
    const dumps: string[] = [];
    if (engine === 'sqlite') {
      // The raw file bytes: every table, every column, indexes and free space alike.
      for (const suffix of ['', '-wal', '-shm']) {
        const file = `${s.databaseUrl}${suffix}`;
        if (existsSync(file)) dumps.push(readFileSync(file).toString('latin1'));
      }
      expect(dumps.length).toBeGreaterThanOrEqual(2);
    } else {
      const listed = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema()`.execute(db);
      const names = listed.rows.map((r) => r.table_name);
      for (const t of tables) expect(names).toContain(t);
      for (const name of names) {
        const rows = await sql<{ r: string }>`select t::text as r from ${sql.table(name)} t`.execute(db);
        dumps.push(rows.rows.map((row) => row.r).join('\n'));
      }
    }
    const all = dumps.join('\n');
    expect(all, 'positive control: plaintext columns are scanned').toContain(marker);
    expect(found(all, canaries)).toEqual([]);
    expect(found(all, apiKeys)).toEqual([]);
    // Secret rows are envelopes only.
    const rows = await db.selectFrom('secrets').select('ciphertext').execute();
    for (const row of rows) expect(row.ciphertext).toMatch(/^lk1\.[1-9]\d*\.[A-Za-z0-9_-]+$/);
    const idem = await db.selectFrom('idempotency_keys').selectAll().where('state', '=', 'done').execute();
    expect(idem.length).toBeGreaterThanOrEqual(9);
    for (const row of idem) expect(row.response).toMatch(/^lk1\./);
  });

  it('idempotency fingerprints are keyed: a stored one cannot be recomputed from the request to confirm a guess', async () => {
    const db = s.lk.services.store.db;
    const password = canary('guessable.password');
    const input = { key: 'pg', id: 'u-fp', config: { host: 'db.example.com', database: 'app' }, metadata: {}, labels: {}, enabled: true, credentials: { type: 'basic', username: 'app', password } };
    const { key: _k, ...body } = input;
    await expectStatus('fingerprinted create', 201, 'POST', '/v1/integrations/pg/connections', { body, headers: { 'idempotency-key': 'idem-fp' } });
    const row = await db.selectFrom('idempotency_keys').selectAll().where('idem_key', '=', 'idem-fp').executeTakeFirstOrThrow();
    // The parsed input after defaults, as the registry fingerprints it (port and sslMode defaults live in the stored config, not in the input).
    // With or without the calling key's id bound in (see IdempotencyStore.fingerprint).
    const admin = await db.selectFrom('api_keys').select('id').where('tenant_id', '=', 'default').where('name', '=', 'first admin key').executeTakeFirstOrThrow();
    const materials = [null, admin.id].map((keyId) => canonicalJson(['integrations.connection.create', keyId, input]));
    const keyed = materials.map((m) => s.lk.services.keyring.digest('idempotency-fingerprint', m));
    expect(keyed, 'positive control: this is exactly the fingerprinted input').toContain(row.fingerprint);
    for (const m of materials) expect(row.fingerprint).not.toBe(createHash('sha256').update(m).digest('hex'));
    expect(row.fingerprint).not.toBe(createHash('sha256').update(`integrations.connection.create\n${canonicalJson(input)}`).digest('hex'));
    expect(row.fingerprint).not.toContain(password);
  });
});
