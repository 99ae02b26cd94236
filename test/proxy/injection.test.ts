import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { type Upstream, bearer, connection, httpIntegration, proxyAudit, rawRequest, startUpstream } from './support.js';

const API_KEY = 'canary-api-key-7f3a9c1e55d2';
const PAT = 'canary-pat-token-b81d44e07a';
const PASSWORD = 'canary-basic-password-29cc1f';
const QUERY_KEY = 'canary-query-key-0d6e93aa4b';
const CANARIES = [API_KEY, PAT, PASSWORD, QUERY_KEY];

describe('proxy: credentials injected the way the provider declares', () => {
  let s: TestServer;
  let up: Upstream;
  let base: string;
  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true } });
    up = await startUpstream();
    base = s.baseUrl!;
    await httpIntegration(s, 'hdr', 'api_key', `${up.url}/api/v2`, { authHeader: 'X-API-Key', authPrefix: '' });
    await connection(s, 'hdr', 'c1', { type: 'api_key', apiKey: API_KEY });
    await httpIntegration(s, 'pat', 'pat', up.url);
    await connection(s, 'pat', 'c1', { type: 'pat', token: PAT });
    await httpIntegration(s, 'basic', 'basic', `${up.url}/base/`);
    await connection(s, 'basic', 'c1', { type: 'basic', username: 'ada', password: PASSWORD });
    await httpIntegration(s, 'query', 'api_key', up.url, { apiKeyQueryParam: 'api_key' });
    await connection(s, 'query', 'c1', { type: 'api_key', apiKey: QUERY_KEY });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  const last = () => up.seen[up.seen.length - 1]!;

  it('API-key header: the configured header with the bare key, below the base path, method and query passed through', async () => {
    const res = await rawRequest(base, 'GET', '/v1/proxy/hdr/c1/users/42?expand=a%2Fb&x=1+2', { headers: { ...bearer(s.adminKey), accept: 'application/json', 'x-custom': 'kept' } });
    expect(res.status, res.text).toBe(200);
    expect(last().method).toBe('GET');
    expect(last().url).toBe('/api/v2/users/42?expand=a%2Fb&x=1+2');
    expect(last().headers['x-api-key']).toBe(API_KEY);
    expect(last().headers.authorization).toBeUndefined();
    expect(last().headers.accept).toBe('application/json');
    expect(last().headers['x-custom']).toBe('kept');
    expect(last().headers.host).toBe(`127.0.0.1:${up.port}`);
  });

  it('PAT: Authorization: Bearer <token>, at the base URL itself when no path follows', async () => {
    const res = await rawRequest(base, 'DELETE', '/v1/proxy/pat/c1', { headers: bearer(s.adminKey) });
    expect(res.status, res.text).toBe(200);
    expect(last().method).toBe('DELETE');
    expect(last().url).toBe('/');
    expect(last().headers.authorization).toBe(`Bearer ${PAT}`);
  });

  it('Basic: base64 of username:password; a trailing slash of the base URL and of the path are kept as sent', async () => {
    const res = await rawRequest(base, 'POST', '/v1/proxy/basic/c1/items/', { headers: { ...bearer(s.adminKey), 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status, res.text).toBe(200);
    expect(last().url).toBe('/base/items/');
    expect(last().headers.authorization).toBe(`Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`);
    expect(last().headers['content-type']).toBe('application/json');
    expect(last().headers['content-length']).toBe('7');
    expect(last().bytes).toBe(7);
  });

  it('query parameter: the key replaces a caller-sent parameter of that name, every other parameter keeps its encoding', async () => {
    const res = await rawRequest(base, 'GET', '/v1/proxy/query/c1/search?q=%E2%9C%93+x&api_key=callers-own&page=2', { headers: bearer(s.adminKey) });
    expect(res.status, res.text).toBe(200);
    expect(last().url).toBe(`/search?q=%E2%9C%93+x&page=2&api_key=${QUERY_KEY}`);
    expect(last().headers.authorization).toBeUndefined();
  });

  it('the caller\'s own Authorization, X-API-Key and Cookie, hop-by-hop and X-Forwarded-* headers are never forwarded', async () => {
    const runtime = await s.newKey('runtime');
    await rawRequest(base, 'PUT', '/v1/proxy/pat/c1/x', {
      headers: {
        authorization: `Bearer ${runtime}`,
        cookie: 'session=latchkey-studio-cookie',
        'x-forwarded-for': '10.9.9.9',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=10.9.9.9',
        'x-real-ip': '10.9.9.9',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        connection: 'keep-alive, x-drop-me',
        'x-drop-me': 'hop-by-hop by Connection',
        te: 'trailers',
        'content-length': '0',
      },
    });
    const first = last();
    expect(first.headers.authorization).toBe(`Bearer ${PAT}`);
    for (const name of ['cookie', 'x-forwarded-for', 'x-forwarded-host', 'forwarded', 'x-real-ip', 'proxy-authorization', 'x-drop-me', 'te', 'x-api-key']) {
      expect(first.headers[name], name).toBeUndefined();
    }
    expect(JSON.stringify(first.headers)).not.toContain(runtime);

    // Authenticated by X-API-Key, towards a provider that injects into X-API-Key: the provider gets its key, not Latchkey's.
    await rawRequest(base, 'GET', '/v1/proxy/hdr/c1/me', { headers: { 'x-api-key': runtime } });
    expect(last().headers['x-api-key']).toBe(API_KEY);
    expect(JSON.stringify(last().headers)).not.toContain(runtime);
  });

  it('status and safe response headers pass through; Set-Cookie, WWW-Authenticate and hop-by-hop headers do not; Latchkey keeps its own security headers', async () => {
    up.handler = (_req, res) => {
      res.writeHead(418, {
        'content-type': 'text/plain; charset=utf-8',
        etag: '"v7"',
        'x-ratelimit-remaining': '41',
        'set-cookie': ['provider_session=abc; Path=/'],
        'www-authenticate': 'Bearer realm="provider"',
        'strict-transport-security': 'max-age=63072000',
        connection: 'x-hop',
        'x-hop': 'dropped',
        'content-security-policy': "default-src *",
      });
      res.end('I am a teapot');
    };
    try {
      const res = await rawRequest(base, 'GET', '/v1/proxy/pat/c1/teapot', { headers: bearer(s.adminKey) });
      expect(res.status).toBe(418);
      expect(res.text).toBe('I am a teapot');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers.etag).toBe('"v7"');
      expect(res.headers['x-ratelimit-remaining']).toBe('41');
      for (const name of ['set-cookie', 'www-authenticate', 'strict-transport-security', 'x-hop']) expect(res.headers[name], name).toBeUndefined();
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-request-id']).toBeTruthy();
    } finally {
      up.handler = (await import('./support.js')).echo;
    }
  });

  it('an injected credential never comes back in a response header: stripped from URL headers, redacted elsewhere, for every injection style', async () => {
    const basicBlob = Buffer.from(`ada:${PASSWORD}`).toString('base64');
    up.handler = (req, res, seen) => {
      const sentQuery = (req.url ?? '').split('?')[1] ?? '';
      res.writeHead(302, {
        // A provider's redirect repeats the request's query, credential included.
        location: `https://api.example.com${req.url}`,
        'content-location': `/items/?${sentQuery}#top`,
        link: `<https://api.example.com/items?page=2&${sentQuery}>; rel="next", <https://api.example.com/items?${sentQuery}&page=0>; rel="prev"`,
        refresh: `0; url=https://api.example.com/items?${sentQuery}`,
        // …and a debugging provider echoes whatever it received, in whatever encoding.
        'x-debug-query': sentQuery,
        'x-debug-encoded': encodeURIComponent(`key ${new URLSearchParams(sentQuery).get('api_key') ?? ''}/${seen.headers['x-api-key'] ?? ''}`),
        'x-debug-auth': `auth=${seen.headers.authorization ?? ''}; key=${seen.headers['x-api-key'] ?? ''}`,
        'x-debug-basic': (seen.headers.authorization ?? '').replace(/^Basic /, ''),
        'x-debug-password': `pw=${Buffer.from((seen.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':')[1] ?? ''}`,
        ...(sentQuery.includes(QUERY_KEY) ? { [`x-${QUERY_KEY}`]: 'a header named after the key' } : {}),
        'content-length': '0',
      });
      res.end();
    };
    try {
      const responses = [];
      for (const name of ['query', 'hdr', 'pat', 'basic']) {
        const res = await rawRequest(base, 'GET', `/v1/proxy/${name}/c1/items/?limit=5`, { headers: bearer(s.adminKey) });
        expect(res.status, res.text).toBe(302);
        const relayed = JSON.stringify(res.headers);
        for (const canary of [...CANARIES, basicBlob]) expect(relayed, `${name}: ${canary}`).not.toContain(canary);
        responses.push(res);
      }
      // The query style: the parameter is taken out of every URL, the rest of the URL is kept.
      const query = responses[0]!.headers;
      expect(query.location).toBe('https://api.example.com/items/?limit=5');
      expect(query['content-location']).toBe('/items/?limit=5#top');
      expect(query.link).toBe('<https://api.example.com/items?page=2&limit=5>; rel="next", <https://api.example.com/items?limit=5&page=0>; rel="prev"');
      expect(query.refresh).toBe('0; url=https://api.example.com/items?limit=5');
      expect(query['x-debug-query']).toBe('limit=5&api_key=REDACTED');
      expect(query[`x-${QUERY_KEY}`]).toBeUndefined();
      // Header styles: the value is redacted wherever it appears; a Location without it is untouched.
      expect(responses[1]!.headers.location).toBe('https://api.example.com/api/v2/items/?limit=5');
      expect(responses[1]!.headers['x-debug-auth']).toBe('auth=; key=REDACTED');
      expect(responses[1]!.headers['x-debug-encoded']).toBe('key%20%2FREDACTED');
      expect(responses[2]!.headers['x-debug-auth']).toBe('auth=REDACTED; key=');
      expect(query['x-debug-encoded']).toBe('key%20REDACTED%2F');
      expect(responses[3]!.headers['x-debug-basic']).toBe('REDACTED');
      expect(responses[3]!.headers['x-debug-password']).toBe('pw=REDACTED');
      const logs = s.logs.join('\n');
      for (const canary of [...CANARIES, basicBlob]) expect(logs).not.toContain(canary);
    } finally {
      up.handler = (await import('./support.js')).echo;
    }
  });

  it('HEAD and OPTIONS are forwarded too', async () => {
    const head = await rawRequest(base, 'HEAD', '/v1/proxy/pat/c1/h', { headers: bearer(s.adminKey) });
    expect(head.status).toBe(200);
    expect(last().method).toBe('HEAD');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
    const options = await rawRequest(base, 'OPTIONS', '/v1/proxy/pat/c1/o', { headers: bearer(s.adminKey) });
    expect(options.status).toBe(200);
    expect(last().method).toBe('OPTIONS');
  });

  it('every proxied call is audited with the connection and the status, never a credential, path or query', async () => {
    const before = (await proxyAudit(s, 'query/c1')).events.length;
    await rawRequest(base, 'GET', '/v1/proxy/query/c1/audited-path?secret-looking=1', { headers: bearer(s.adminKey) });
    const { events, text } = await proxyAudit(s, 'query/c1');
    expect(events.length).toBe(before + 1);
    expect(events[0]).toMatchObject({ outcome: 'success', status: 200, resource: { type: 'connection', id: 'query/c1' }, changes: null });
    expect(text).not.toContain('audited-path');
    for (const canary of CANARIES) expect(text).not.toContain(canary);
  });

  it('is described in /openapi.json as a streaming operation under platform.connection.use', async () => {
    const doc = await s.request('GET', '/openapi.json', { key: null });
    const item = doc.body.paths['/v1/proxy/{key}/{id}/{path}'];
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'head', 'options', 'patch', 'post', 'put']);
    expect(item.get['x-latchkey']).toMatchObject({ key: 'integrations.proxy', stream: true, policies: [{ key: 'platform.connection.use', version: '1.0.0' }] });
    expect(item.get.responses['504']).toBeDefined();
  });

  it('is counted in the request metrics under its operation key, never its path', async () => {
    const metrics = await s.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/latchkey_http_requests_total\{[^}]*operation="integrations\.proxy"[^}]*status_class="2xx"[^}]*\} [1-9]/);
    expect(metrics.text).not.toContain('/v1/proxy/');
    for (const canary of CANARIES) expect(metrics.text).not.toContain(canary);
  });

  it('no credential value ever reached a log line', () => {
    const logs = s.logs.join('\n');
    for (const canary of CANARIES) expect(logs).not.toContain(canary);
  });
});
