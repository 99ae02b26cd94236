import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboundGuard } from '../../src/net/outbound-guard.js';
import { testRequestUrl } from '../../src/testers/provider-url.js';
import { runConnectionTest } from '../../src/testers/run-connection-test.js';
import type { TestResult } from '../../src/testers/test-result.js';
import { catalogProvider, customProvider, expectNoSecrets, target } from './support/targets.js';

const TOKEN = 'ghp_canaryToken0123456789abcdefXYZ';
const API_KEY = 'sk_live_canary+key/with=odd&chars';
const USER = 'alice@example.com';
const PASSWORD = 'pässword-canary-🔑-42';
const CONSUMER_SECRET = 'oauth1-consumer-canary&secret';
const TOKEN_SECRET = 'oauth1-token-canary secret~';
const SECRETS = [TOKEN, API_KEY, PASSWORD, CONSUMER_SECRET, TOKEN_SECRET];

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let handler: Handler;
let hits: string[];
const failures: TestResult[] = [];

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
/** Answers 200 with a JSON body when `accept` approves the request, else 401. */
const checking = (accept: (req: IncomingMessage) => boolean): Handler => (req, res) => (accept(req) ? json(res, 200, { login: 'octo' }) : json(res, 401, { message: 'bad credentials' }));

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  for (const result of failures) expectNoSecrets(result, SECRETS);
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  hits = [];
  handler = (_req, res) => json(res, 200, { login: 'octo' });
});

const guard = new OutboundGuard({ allowList: ['127.0.0.1'] });
const http = catalogProvider('http');
const run = async (t: Parameters<typeof runConnectionTest>[0], timeoutMs = 3000) => {
  const result = await runConnectionTest(t, { guard, timeoutMs });
  if (!result.ok) failures.push(result);
  return result;
};
const pat = (integration: Record<string, unknown> = {}) => target(http, 'pat', { type: 'pat', fields: { token: TOKEN } }, { integration: { baseUrl: base, ...integration } });
const apiKey = (integration: Record<string, unknown> = {}) => target(http, 'api_key', { type: 'api_key', fields: { apiKey: API_KEY } }, { integration: { baseUrl: base, ...integration } });
const basic = () => target(http, 'basic', { type: 'basic', fields: { username: USER, password: PASSWORD } }, { integration: { baseUrl: base } });

describe('credential injection, checked by the server', () => {
  it('pat: Authorization: Bearer <token>', async () => {
    handler = checking((req) => req.headers.authorization === `Bearer ${TOKEN}`);
    const result = await run(pat());
    expect(result).toMatchObject({ ok: true, error: null, details: { status: 200, method: 'GET', url: `${base}/` } });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(Date.parse(result.checkedAt)).not.toBeNaN();
  });

  it('api_key with the catalog default: Authorization: Bearer <key>', async () => {
    handler = checking((req) => req.headers.authorization === `Bearer ${API_KEY}`);
    expect((await run(apiKey())).ok).toBe(true);
  });

  it('api_key in a custom header with an empty prefix (bare value)', async () => {
    handler = checking((req) => req.headers['x-api-key'] === API_KEY && req.headers.authorization === undefined);
    expect((await run(apiKey({ authHeader: 'X-API-Key', authPrefix: '' }))).ok).toBe(true);
  });

  it('api_key in a custom header with no prefix given: the bare value (Bearer belongs to Authorization)', async () => {
    handler = checking((req) => req.headers['x-api-key'] === API_KEY && req.headers.authorization === undefined);
    expect((await run(apiKey({ authHeader: 'X-API-Key' }))).ok).toBe(true);
  });

  it('api_key in a custom header with a custom prefix', async () => {
    handler = checking((req) => req.headers.authorization === `Token ${API_KEY}`);
    expect((await run(apiKey({ authPrefix: 'Token ' }))).ok).toBe(true);
  });

  it('api_key as a query parameter, kept out of the reported URL', async () => {
    handler = checking((req) => new URL(req.url ?? '', base).searchParams.get('api_key') === API_KEY && !req.headers.authorization);
    const result = await run(apiKey({ apiKeyQueryParam: 'api_key' }));
    expect(result.ok).toBe(true);
    expect(result.details.url).toBe(`${base}/`);
    expectNoSecrets(result, [API_KEY]);
  });

  it('basic: Authorization: Basic base64(user:password) in UTF-8', async () => {
    const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`, 'utf8').toString('base64')}`;
    handler = checking((req) => req.headers.authorization === expected);
    expect((await run(basic())).ok).toBe(true);
  });

  it('oauth1: a signed Authorization: OAuth header over the test request; a missing consumer key or secret is misconfigured', async () => {
    // The signature itself is verified from the RFC in test/proxy/oauth1.test.ts; here: the shape, and that it is there.
    const shape = /^OAuth oauth_consumer_key="ck", oauth_nonce="[0-9a-f]{32}", oauth_signature="[A-Za-z0-9%]{20,}", oauth_signature_method="HMAC-SHA1", oauth_timestamp="\d{10}", oauth_token="tok", oauth_version="1.0"$/;
    handler = checking((req) => req.url === '/me?x=1' && shape.test(req.headers.authorization ?? ''));
    const oauth1 = (integration: Record<string, unknown>, fields: Record<string, unknown>) =>
      target(http, 'oauth1', { type: 'oauth1', fields }, { integration: { baseUrl: base, testPath: '/me?x=1', ...integration } });
    const all = { token: 'tok', tokenSecret: TOKEN_SECRET, consumerSecret: CONSUMER_SECRET };
    expect((await run(oauth1({ consumerKey: 'ck' }, all))).ok).toBe(true);
    expect((await run(oauth1({}, all))).error?.code).toBe('misconfigured');
    expect((await run(oauth1({ consumerKey: 'ck' }, { token: 'tok', tokenSecret: TOKEN_SECRET }))).error).toMatchObject({ code: 'misconfigured', message: 'the integration has no consumerSecret' });
    expect((await run(oauth1({ consumerKey: 'ck', testPath: '/me?oauth_token=x' }, all))).error?.code).toBe('misconfigured');
    expect(hits).toEqual(['/me?x=1']);
  });

  it('a catalog-style provider: placeholders, declared path and a nested JSON field', async () => {
    const provider = customProvider({
      key: 'acme',
      authMethods: ['pat'],
      baseUrl: 'http://{host}/api/v2',
      injection: { pat: { style: 'header', header: 'X-Acme-Token', prefix: 'tok ' } },
      test: { kind: 'http', path: '/me', jsonField: 'user.id' },
      parameters: [{ name: 'host', displayName: 'Host', type: 'string', level: 'connection' }],
    });
    handler = (req, res) =>
      req.url === '/api/v2/me' && req.headers['x-acme-token'] === `tok ${TOKEN}` ? json(res, 200, { user: { id: 0 } }) : json(res, 401, {});
    const result = await run(target(provider, 'pat', { type: 'pat', fields: { token: TOKEN } }, { connection: { host: new URL(base).host } }));
    expect(result).toMatchObject({ ok: true, details: { status: 200, jsonField: 'user.id' } });
  });

  it('the generic provider uses config.testPath under the base path', async () => {
    handler = checking((req) => req.url === '/base/v1/me?x=1');
    expect((await run(pat({ baseUrl: `${base}/base/`, testPath: '/v1/me?x=1' }))).ok).toBe(true);
  });
});

describe('failures', () => {
  it('401 → auth_failed, even when the server echoes the Authorization header', async () => {
    handler = (req, res) => json(res, 401, { error: `invalid token: ${req.headers.authorization}` });
    const result = await run(pat());
    expect(result).toMatchObject({ ok: false, error: { code: 'auth_failed' }, details: { status: 401 } });
    expect(result.error?.message).toContain('[redacted]');
    expectNoSecrets(result, [TOKEN]);
  });

  it('403 with an echoed Basic header → auth_failed, no password or base64 pair in the result', async () => {
    handler = (req, res) => json(res, 403, { echoed: req.headers.authorization, raw: `${USER}:${PASSWORD}` });
    const result = await run(basic());
    expect(result.error?.code).toBe('auth_failed');
    expectNoSecrets(result, [PASSWORD, `${USER}:${PASSWORD}`]);
  });

  it('500 → unexpected_status, with the echoed query-string key scrubbed', async () => {
    handler = (req, res) => json(res, 500, { error: 'boom', url: req.url, decoded: decodeURIComponent(req.url ?? '') });
    const result = await run(apiKey({ apiKeyQueryParam: 'key' }));
    expect(result).toMatchObject({ ok: false, error: { code: 'unexpected_status' }, details: { status: 500 } });
    expect(result.error?.message).toMatch(/answered 500, expected 200/);
    expectNoSecrets(result, [API_KEY]);
  });

  it('a missing, null or non-JSON jsonField → invalid_response', async () => {
    const github = customProvider({ key: 'gh', authMethods: ['pat'], baseUrl: base, injection: { pat: { style: 'bearer' } }, test: { kind: 'http', path: '/user', jsonField: 'login' } });
    const t = target(github, 'pat', { type: 'pat', fields: { token: TOKEN } });
    for (const body of ['{"id":1}', '{"login":null}', 'not json', '[]']) {
      handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      const result = await run(t);
      expect(result, body).toMatchObject({ ok: false, error: { code: 'invalid_response' }, details: { status: 200 } });
    }
  });

  it('a redirect is reported, never followed', async () => {
    handler = (req, res) => {
      if (req.url === '/') res.writeHead(302, { location: `${base}/landing` }).end();
      else json(res, 200, { login: 'octo' });
    };
    const result = await run(pat());
    expect(result).toMatchObject({ ok: false, error: { code: 'unexpected_status' }, details: { status: 302, location: `${base}/landing` } });
    expect(result.error?.message).toMatch(/not followed/);
    expect(hits).toEqual(['/']);
  });

  it('a loopback base URL is refused without an allow-list, and nothing is sent', async () => {
    const result = await runConnectionTest(pat(), { guard: new OutboundGuard(), timeoutMs: 2000 });
    failures.push(result);
    expect(result.error?.code).toBe('destination_refused');
    const viaName = await runConnectionTest(pat({ baseUrl: base.replace('127.0.0.1', 'localhost') }), { guard: new OutboundGuard(), timeoutMs: 2000 });
    expect(viaName.error?.code).toBe('destination_refused');
    expect(hits).toEqual([]);
  });

  it('the address connected to is the one the guard resolved and checked', async () => {
    // A fake DNS that points a public-looking name at loopback (the rebinding set-up).
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const url = base.replace('127.0.0.1', 'api.rebind.test');
    const refused = await runConnectionTest(pat({ baseUrl: url }), { guard: new OutboundGuard({ resolve }), timeoutMs: 2000 });
    expect(refused.error?.code).toBe('destination_refused');
    expect(hits).toEqual([]);
    const allowed = await runConnectionTest(pat({ baseUrl: url }), { guard: new OutboundGuard({ resolve, allowPrivateNetworks: true }), timeoutMs: 2000 });
    expect(allowed.ok).toBe(true);
    expect(hits).toEqual(['/']);
  });

  it('a name that does not resolve → dns_failed', async () => {
    const resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND api.nowhere.test'), { code: 'ENOTFOUND' });
    };
    const result = await runConnectionTest(pat({ baseUrl: 'http://api.nowhere.test' }), { guard: new OutboundGuard({ resolve }), timeoutMs: 2000 });
    expect(result.error?.code).toBe('dns_failed');
  });

  it('a server that never answers → timeout within the limit', async () => {
    handler = () => undefined; // hold the request open
    const started = Date.now();
    const result = await run(pat(), 400);
    expect(result.error?.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a closed port → host_unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await run(pat({ baseUrl: `http://127.0.0.1:${port}` }));
    expect(result.error?.code).toBe('host_unreachable');
  });

  it('configuration problems → misconfigured', async () => {
    expect((await run(target(http, 'pat', { type: 'pat', fields: { token: TOKEN } }))).error?.code).toBe('misconfigured');
    expect((await run(target(http, 'pat', { type: 'pat', fields: {} }, { integration: { baseUrl: base } }))).error?.code).toBe('misconfigured');
    expect((await run(pat({ baseUrl: 'ftp://127.0.0.1/' }))).error?.code).toBe('misconfigured');
    const zendesk = catalogProvider('zendesk');
    const evil = target(zendesk, 'basic', { type: 'basic', fields: { username: USER, password: PASSWORD } }, { connection: { subdomain: 'x.attacker.example/' } });
    expect((await run(evil)).error?.code).toBe('misconfigured');
    expect(hits).toEqual([]);
  });
});

describe('catalog test requests (URL only, nothing is sent)', () => {
  it.each([
    ['github', {}, {}, 'https://api.github.com/user'],
    ['gitlab', { host: 'gitlab.example.com' }, {}, 'https://gitlab.example.com/api/v4/user'],
    ['zendesk', {}, { subdomain: 'acme' }, 'https://acme.zendesk.com/api/v2/users/me.json'],
    ['salesforce', {}, { instanceHost: 'acme.my.salesforce.com' }, 'https://acme.my.salesforce.com/services/data/v62.0/'],
    ['twitter', {}, {}, 'https://api.x.com/2/users/me'],
  ])('%s', (key, integration, connection, expected) => {
    const provider = catalogProvider(key);
    const declared = provider.test;
    if (declared.kind !== 'http') throw new Error('not an http test');
    const t = target(provider, provider.authMethods[0]!, { type: 'pat', fields: {} }, { integration, connection });
    expect(testRequestUrl(t, declared.path).href).toBe(expected);
  });
});
