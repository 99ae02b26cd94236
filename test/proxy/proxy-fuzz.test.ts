import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { type Upstream, bearer, connection, httpIntegration, rawRequest, startUpstream } from './support.js';

/**
 * The proxy (a streaming route outside the contract fuzzer, test/fuzz/) under generated
 * hostile requests: escape-shaped paths, odd methods, caller headers that must never
 * reach the provider, arbitrary bodies. Whatever the request, Latchkey answers without a
 * 5xx of its own, everything that reaches the upstream stays under the integration's
 * base path with the injected key and none of the caller's credentials, and no answer
 * carries the stored key.
 */
const KEY = 'proxy-fuzz-canary-key-7d1e52a9c4';
const BASE_PATH = '/base/v2';
const RUNS = Number(process.env.PROXY_FUZZ_RUNS ?? 150);

const segment = fc.oneof(
  fc.constantFrom('items', 'a b', 'ü', '..', '.', '%2e%2e', '%2E.', '.%2e', '..;', '..%3b', '.;x', '%252e%252e', '%252f', '%2f', '%5c', '%5C', '\\', '', 'http:', 'evil.com', '@evil.com', '%00', '%zz', '%', '~', 'a%2Fb', '%c0%ae%c0%ae', '%u002e'),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,12}$/),
  fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s)),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?a=1', '?api_key=mine', '?x=%2e%2e%2f', '?redirect=http://evil.com', '?#frag', '?a=1&a=2', '?%zz=1'),
  fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }).map((d) => `?${new URLSearchParams(d).toString()}`),
);
const callerHeaders = fc.record(
  {
    'x-api-key': fc.constant('caller-own-api-key-0000'),
    cookie: fc.constant('session=caller-cookie-0000'),
    'proxy-authorization': fc.constant('Basic caller-proxy-auth-0000'),
    'x-forwarded-for': fc.constant('10.0.0.1'),
    host: fc.constantFrom('evil.com', 'internal.admin'),
    connection: fc.constantFrom('close', 'x-api-key', 'keep-alive, x-custom'),
    'x-custom': fc.string({ maxLength: 20 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'),
  },
  { requiredKeys: [] },
);
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
  segments: fc.array(segment, { maxLength: 6 }),
  query,
  headers: callerHeaders,
  body: fc.option(fc.string({ maxLength: 2_000 }), { nil: undefined }),
});

describe('proxy under generated hostile requests', () => {
  let s: TestServer;
  let up: Upstream;
  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true, logLevel: 'warn' } });
    up = await startUpstream();
    // A provider that answers everything and echoes nothing back (an echoing one would
    // return the key in its body, which no proxy can take out).
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    await httpIntegration(s, 'fz', 'api_key', `${up.url}${BASE_PATH}`, { authHeader: 'X-API-Key', authPrefix: '' });
    await connection(s, 'fz', 'c1', { type: 'api_key', apiKey: KEY });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it(`${RUNS} requests: no 5xx of Latchkey's own, nothing leaves the base path, no caller credential forwarded, no key returned`, async () => {
    let sent = 0;
    let forwarded = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const target = `/v1/proxy/fz/c1/${r.segments.join('/')}${r.query}`;
        const body = r.body !== undefined && !['GET', 'HEAD'].includes(r.method) ? r.body : undefined;
        // Framed explicitly: Node's client sends an OPTIONS or DELETE body unframed otherwise.
        const headers = { ...r.headers, ...bearer(s.adminKey), ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) };
        const seenBefore = up.seen.length;
        let res;
        try {
          res = await rawRequest(s.baseUrl!, r.method, target, { headers, ...(body !== undefined ? { body } : {}) });
        } catch (error) {
          // Node's client refuses some requests itself (bad characters in the path): not Latchkey's doing.
          if (/^ERR_(UNESCAPED_CHARACTERS|INVALID_CHAR|INVALID_HTTP_TOKEN)$/.test(String((error as { code?: string }).code))) return;
          throw error;
        }
        sent++;
        // The upstream is healthy and answers everything: any 5xx would be Latchkey's own.
        expect(res.status, `${r.method} ${target} → ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 400 && r.method !== 'HEAD') expect(res.headers['content-type'], target).toContain('application/problem+json');
        expect(res.text).not.toContain(KEY);
        expect(JSON.stringify(res.headers)).not.toContain(KEY);
        for (const seen of up.seen.slice(seenBefore)) {
          forwarded++;
          const path = seen.url.split('?')[0]!;
          expect(path === BASE_PATH || path.startsWith(`${BASE_PATH}/`), `${target} reached ${seen.url}`).toBe(true);
          for (const part of path.split('/')) {
            const decoded = part.replace(/%2e/gi, '.').split(';')[0];
            expect(decoded === '.' || decoded === '..', `${target} reached ${seen.url}`).toBe(false);
          }
          expect(seen.headers['x-api-key']).toBe(KEY);
          const forwardedHeaders = JSON.stringify(seen.headers);
          for (const own of [s.adminKey, 'caller-own-api-key-0000', 'caller-cookie-0000', 'caller-proxy-auth-0000', 'evil.com', 'internal.admin']) {
            expect(forwardedHeaders, `${target} forwarded ${own}`).not.toContain(own);
          }
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.PROXY_FUZZ_SEED ?? 20261124) },
    );
    // The run exercised both outcomes: refused requests and forwarded ones.
    expect(sent).toBeGreaterThan(RUNS / 2);
    expect(forwarded).toBeGreaterThan(10);
    expect(s.logs.join('\n')).not.toContain(KEY);
  }, 120_000);
});
