import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { type Upstream, bearer, connection, httpIntegration, rawRequest, startUpstream } from './support.js';

const TOKEN = 'canary-path-token-5e2b7d90c1';

describe('proxy: requests go to the declared base URL and nowhere else', () => {
  let s: TestServer;
  let up: Upstream;
  let elsewhere: Upstream;
  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true } });
    up = await startUpstream();
    elsewhere = await startUpstream();
    await httpIntegration(s, 'api', 'pat', `${up.url}/api/v2`);
    await connection(s, 'api', 'c1', { type: 'pat', token: TOKEN });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
    await elsewhere?.close();
  });

  const escapes: Array<[string, string]> = [
    ['a dot-dot segment', '/v1/proxy/api/c1/../admin'],
    ['a dot-dot segment at the end', '/v1/proxy/api/c1/users/..'],
    ['a single-dot segment', '/v1/proxy/api/c1/./admin'],
    ['percent-encoded dot-dot', '/v1/proxy/api/c1/%2e%2e/admin'],
    ['upper-case percent-encoded dot-dot', '/v1/proxy/api/c1/x/%2E%2E/%2E%2E/admin'],
    ['half-encoded dot-dot', '/v1/proxy/api/c1/.%2e/admin'],
    ['an encoded slash', '/v1/proxy/api/c1/users%2f..%2fadmin'],
    ['an upper-case encoded slash', '/v1/proxy/api/c1/a%2Fb'],
    ['an encoded backslash', '/v1/proxy/api/c1/..%5cadmin'],
    ['a raw backslash', '/v1/proxy/api/c1/..\\admin'],
    ['a protocol-relative host', '/v1/proxy/api/c1//evil.example/steal'],
    ['an absolute URL in the path', '/v1/proxy/api/c1/http://evil.example/steal'],
    ['an absolute URL with encoded slashes', '/v1/proxy/api/c1/http:%2F%2Fevil.example%2Fsteal'],
    ['an empty segment in the middle', '/v1/proxy/api/c1/a//b'],
    ['a NUL byte', '/v1/proxy/api/c1/a%00b'],
    ['a malformed percent-escape', '/v1/proxy/api/c1/a%zzb'],
    ['a connection id smuggling a path', '/v1/proxy/api/c1%2f..%2fother/x'],
    ['an integration key of dots', '/v1/proxy/../api/c1/x'],
  ];
  // Refused as any other escape: 400 proxy_path_refused.
  const disguisedDots: Array<[string, string]> = [
    // Java servers drop a segment's ";…" path parameters before resolving it: "..;" is "..".
    ['a dot-dot segment with a path parameter', '/v1/proxy/api/c1/..;/admin'],
    ['a dot-dot segment with a named path parameter', '/v1/proxy/api/c1/x/..;jsessionid=1/admin'],
    ['a dot segment with a path parameter', '/v1/proxy/api/c1/.;/admin'],
    ['a dot-dot segment with an encoded semicolon', '/v1/proxy/api/c1/..%3b/admin'],
    ['an encoded dot-dot segment with an encoded semicolon', '/v1/proxy/api/c1/%2e%2e%3B/admin'],
    // A server that decodes twice sees what a "%25" hides.
    ['a double-encoded dot-dot', '/v1/proxy/api/c1/%252e%252e/admin'],
    ['a half double-encoded dot-dot', '/v1/proxy/api/c1/.%252e/admin'],
    ['a double-encoded dot', '/v1/proxy/api/c1/%252E/admin'],
    ['a double-encoded dot-dot with a semicolon', '/v1/proxy/api/c1/%252e%252e%253b/admin'],
    ['a double-encoded slash', '/v1/proxy/api/c1/users%252f..%252fadmin'],
    ['a double-encoded backslash', '/v1/proxy/api/c1/..%255cadmin'],
    ['a triple-encoded dot-dot', '/v1/proxy/api/c1/%25252e%25252e/admin'],
  ];

  for (const [what, target] of escapes) {
    it(`refuses ${what} with a 400/422 problem and sends nothing upstream`, async () => {
      const before = up.seen.length + elsewhere.seen.length;
      const res = await rawRequest(s.baseUrl!, 'GET', target, { headers: bearer(s.adminKey) });
      expect([400, 422], `${target} → ${res.status} ${res.text}`).toContain(res.status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(up.seen.length + elsewhere.seen.length).toBe(before);
      expect(res.text).not.toContain(TOKEN);
    });
  }

  for (const [what, target] of disguisedDots) {
    it(`refuses ${what} with a 400 proxy_path_refused and sends nothing upstream`, async () => {
      const before = up.seen.length + elsewhere.seen.length;
      const res = await rawRequest(s.baseUrl!, 'GET', target, { headers: bearer(s.adminKey) });
      expect(res.status, `${target} → ${res.text}`).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request', reason: 'proxy_path_refused' });
      expect(up.seen.length + elsewhere.seen.length).toBe(before);
    });
  }

  it('an absolute-form request target never reaches the upstream either', async () => {
    const before = up.seen.length;
    const res = await rawRequest(s.baseUrl!, 'GET', `http://evil.example/v1/proxy/api/c1/x`, { headers: bearer(s.adminKey) });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'bad_request', reason: 'proxy_path_refused' });
    expect(up.seen.length).toBe(before);
  });

  it('ordinary characters that only look risky are forwarded unchanged', async () => {
    const res = await rawRequest(s.baseUrl!, 'GET', '/v1/proxy/api/c1/files/a.b..c/%E2%9C%93;v=1/@me:x/...;/..x;y/100%25/%2525?path=..%2F..%2Fetc&url=http://x/', { headers: bearer(s.adminKey) });
    expect(res.status, res.text).toBe(200);
    expect(up.seen[up.seen.length - 1]!.url).toBe('/api/v2/files/a.b..c/%E2%9C%93;v=1/@me:x/...;/..x;y/100%25/%2525?path=..%2F..%2Fetc&url=http://x/');
  });

  it('redirects are returned as they are, never followed, whatever host they name', async () => {
    up.handler = (_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/steal?from=proxy`, 'content-length': '0' });
      res.end();
    };
    try {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(s.baseUrl!, method, '/v1/proxy/api/c1/moved', { headers: bearer(s.adminKey) });
        expect(res.status).toBe(302);
        expect(res.headers.location).toBe(`${elsewhere.url}/steal?from=proxy`);
      }
      expect(elsewhere.seen).toHaveLength(0);
    } finally {
      up.handler = (await import('./support.js')).echo;
    }
  });
});
