/**
 * The typed client's `proxy()` against a running server and a loopback provider: the
 * provider's answers come back as raw, streamed `Response`s whatever their status, and only
 * Latchkey's own refusals throw `LatchkeyProblem` — even when the provider answers with a
 * problem+json document of its own, shaped like Latchkey's.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMING_CONTRACTS } from '../../src/contracts/index.js';
import { ProxyRequest } from '../../src/contracts/integrations/proxy-contract.js';
import { Latchkey, LatchkeyProblem, streamingMethodNameOf, toProxyRequest } from '../../src/surfaces/client/index.js';
import { type Seen, type Upstream, connection, echo, httpIntegration, startUpstream } from '../proxy/support.js';
import { type TestServer, startTestServer } from '../support/harness.js';

const KEY = 'client-proxy-canary-key-51c9e07a3d';

async function problem(promise: Promise<unknown>): Promise<LatchkeyProblem> {
  const error = await promise.then(
    () => expect.fail('expected a LatchkeyProblem'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LatchkeyProblem);
  return error as LatchkeyProblem;
}

describe('client.proxy() against a running server', () => {
  let s: TestServer;
  let up: Upstream;
  let lk: Latchkey;

  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true, proxyTimeoutMs: 2_000 } });
    up = await startUpstream();
    await httpIntegration(s, 'api', 'api_key', up.url, { authHeader: 'X-Provider-Key' });
    await connection(s, 'api', 'c1', { type: 'api_key', apiKey: KEY });
    lk = new Latchkey({ baseUrl: s.baseUrl!, apiKey: s.adminKey, headers: { 'x-client-default': 'never-forwarded' } });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it('every streaming contract has a client method', () => {
    for (const contract of STREAMING_CONTRACTS) {
      const name = streamingMethodNameOf(contract);
      expect(name, `${contract.meta.key} has no client method`).toBeDefined();
      expect(typeof (lk as unknown as Record<string, unknown>)[name!]).toBe('function');
    }
  });

  it('forwards method, path, query, headers and body; injects the credential server-side', async () => {
    const res = await lk.proxy('api', 'c1', '/things/a%20b?x=1,2', {
      method: 'post',
      query: { page: 2, tag: ['a', 'b'] },
      headers: { 'content-type': 'text/plain', 'x-trace': 't-1' },
      body: 'hello provider',
    });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Seen;
    expect(seen.method).toBe('POST');
    // The path's own query byte for byte, then the options' query.
    expect(seen.url).toBe('/things/a%20b?x=1,2&page=2&tag=a&tag=b');
    expect(seen.headers['x-trace']).toBe('t-1');
    expect(seen.headers['x-provider-key']).toBe(KEY); // no authPrefix: the bare key in a custom header
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-client-default']).toBeUndefined();
    expect(seen.bytes).toBe('hello provider'.length);
  });

  it('streams a request body and the response body', async () => {
    up.handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(Buffer.alloc(1024, n));
        if (++n === 8) {
          clearInterval(timer);
          res.end();
        }
      }, 5);
      req.resume();
    };
    try {
      const chunks = Readable.toWeb(Readable.from([Buffer.alloc(70_000, 1), Buffer.alloc(70_000, 2)])) as ReadableStream;
      const res = await lk.proxy('api', 'c1', 'upload', { method: 'PUT', body: chunks });
      expect(res.status).toBe(200);
      let received = 0;
      let reads = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        received += chunk.length;
        reads++;
      }
      expect(received).toBe(8 * 1024);
      expect(reads).toBeGreaterThan(1);
      expect(up.seen.at(-1)!.bytes).toBe(140_000);
    } finally {
      up.handler = echo;
    }
  });

  it('returns the provider\'s errors as responses, problem+json ones included', async () => {
    up.handler = (_req, res) => {
      // Shaped like a Latchkey problem, with a request id of its own: still the provider's.
      const body = JSON.stringify({ type: 'about:blank', title: 'Nope', status: 403, detail: 'provider says no', code: 'forbidden', requestId: 'upstream-guess' });
      res.writeHead(403, { 'content-type': 'application/problem+json', 'x-request-id': 'upstream-guess' });
      res.end(body);
    };
    try {
      const res = await lk.proxy('api', 'c1', 'secret-area');
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ detail: 'provider says no' });
      up.handler = (_req, res) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      const failed = await lk.proxy('api', 'c1', 'x');
      expect(failed.status).toBe(500);
      expect(await failed.text()).toBe('boom');
    } finally {
      up.handler = echo;
    }
  });

  it('returns a redirect as it is, never following it', async () => {
    up.handler = (_req, res) => void res.writeHead(302, { location: `${s.baseUrl}/v1/api-keys` }).end();
    try {
      const res = await lk.proxy('api', 'c1', 'moved');
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`${s.baseUrl}/v1/api-keys`);
    } finally {
      up.handler = echo;
    }
  });

  it('throws LatchkeyProblem for Latchkey\'s own refusals, with the operation key', async () => {
    const missing = await problem(lk.proxy('api', 'nobody', 'x'));
    expect(missing).toMatchObject({ status: 404, code: 'not_found', operation: 'integrations.proxy' });
    expect(missing.requestId).toMatch(/\S/);

    const viewer = new Latchkey({ baseUrl: s.baseUrl!, apiKey: await s.newKey('viewer') });
    expect(await problem(viewer.proxy('api', 'c1', 'x'))).toMatchObject({ status: 403, code: 'forbidden' });
    const anonymous = new Latchkey({ baseUrl: s.baseUrl!, apiKey: 'not-a-valid-key-0123456789abcdefghijklmnop' });
    expect(await problem(anonymous.proxy('api', 'c1', 'x'))).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(await problem(lk.proxy('api', 'c1', 'a%2Fb'))).toMatchObject({ status: 400, reason: 'proxy_path_refused' });
  });

  it('keeps a caller\'s own request id, and still tells Latchkey\'s problems apart', async () => {
    const refused = await problem(lk.proxy('api', 'nobody', 'x', { headers: { 'x-request-id': 'my-trace-1' } }));
    expect(refused.requestId).toBe('my-trace-1');
  });

  it('refuses, before sending, what fetch would rewrite or the contract does not allow', () => {
    const build = (path: string, opts: Parameters<typeof toProxyRequest>[4] = {}) => () => toProxyRequest(ProxyRequest, 'api', 'c1', path, opts);
    for (const path of ['../../v1/api-keys', 'a/./b', 'a/%2E%2e/b', 'a\\b', 'a#frag']) expect(build(path), path).toThrow(TypeError);
    expect(build('x', { method: 'TRACE' as never })).toThrow(/TRACE is not one of GET, HEAD/);
    expect(() => toProxyRequest(ProxyRequest, 'bad key!', 'c1', 'x')).toThrow(/key: must match/);
    expect(build('').call(null).url).toBe('/v1/proxy/api/c1');
    expect(build('/repos/a').call(null).url).toBe('/v1/proxy/api/c1/repos/a');
  });
});
