/**
 * OAuth 1.0a through the proxy, checked by an upstream that verifies every signature
 * itself. The verifier below is written from RFC 5849 on its own (string-based
 * encodeURIComponent/decodeURIComponent, its own parsing and sorting); it imports nothing
 * from src, so a shared misreading of the RFC cannot make both sides agree.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { type RawResponse, type Upstream, bearer, connection, httpIntegration, proxyAudit, rawRequest, startUpstream } from './support.js';

const CONSUMER_KEY = 'latchkey-test-consumer-key';
const CONSUMER_SECRET = 'canary-oauth1-consumer-secret-5b7e0c1d';
const WRONG_CONSUMER_SECRET = 'canary-oauth1-wrong-consumer-secret-2f19a8';
const TOKEN = 'canary-oauth1-token-91ad3f6e';
const TOKEN_SECRET = 'canary-oauth1-token-secret-c04e77b2';
/** Values no caller may ever see (the token only the provider gets, in the signed header). */
const CANARIES = [CONSUMER_SECRET, WRONG_CONSUMER_SECRET, TOKEN, TOKEN_SECRET];

// ---- the provider's side: an RFC 5849 verifier, independent of src ----

/** RFC 5849 §3.6: RFC 3986 unreserved characters stay, everything else is %XX of its UTF-8 octets. */
const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** application/x-www-form-urlencoded (HTML 4.01 §17.13.4): pairs split on "&" and the first "=", "+" is a space. */
const formPairs = (text: string): [string, string][] =>
  text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
      return eq === -1 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
    });

interface Verified {
  ok: boolean;
  reason?: string;
  nonce?: string;
  timestamp?: number;
  /** How many parameters the signature covered (query + form body + protocol). */
  signedParams?: number;
}

function verifyOAuth1(req: { method: string; url: string; headers: IncomingHttpHeaders; body: string }, consumerSecret: string, nonces: Set<string>): Verified {
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('OAuth ')) return { ok: false, reason: 'no OAuth Authorization header' };
  const protocol = new Map<string, string>();
  for (const part of auth.slice('OAuth '.length).split(',')) {
    const m = /^\s*([A-Za-z0-9_]+)="([^"]*)"\s*$/.exec(part);
    if (!m) return { ok: false, reason: `malformed header part ${part}` };
    if (protocol.has(m[1]!)) return { ok: false, reason: `${m[1]} twice` };
    protocol.set(m[1]!, decodeURIComponent(m[2]!));
  }
  if (protocol.get('oauth_consumer_key') !== CONSUMER_KEY) return { ok: false, reason: 'unknown consumer' };
  if (protocol.get('oauth_token') !== TOKEN) return { ok: false, reason: 'unknown token' };
  if (protocol.get('oauth_signature_method') !== 'HMAC-SHA1') return { ok: false, reason: 'signature method' };
  if (protocol.get('oauth_version') !== '1.0') return { ok: false, reason: 'version' };
  const timestamp = Number(protocol.get('oauth_timestamp'));
  if (!Number.isInteger(timestamp) || Math.abs(timestamp - Date.now() / 1000) > 300) return { ok: false, reason: 'timestamp' };
  const nonce = protocol.get('oauth_nonce') ?? '';
  if (nonce.length < 8) return { ok: false, reason: 'nonce' };

  const q = req.url.indexOf('?');
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const params = q === -1 ? [] : formPairs(req.url.slice(q + 1));
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded') params.push(...formPairs(req.body));
  for (const [name, value] of protocol) if (name !== 'oauth_signature' && name !== 'realm') params.push([name, value]);
  const normalized = params
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort((a, b) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  // This server listens on 127.0.0.1:<port>, plain http: the port is not the default, so it stays.
  const baseUri = `http://${(req.headers.host ?? '').toLowerCase()}${path}`;
  const base = `${req.method.toUpperCase()}&${rfc3986(baseUri)}&${rfc3986(normalized)}`;
  const expected = createHmac('sha1', `${rfc3986(consumerSecret)}&${rfc3986(TOKEN_SECRET)}`).update(base).digest();
  const given = Buffer.from(protocol.get('oauth_signature') ?? '', 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid signature' };
  // A verified nonce is remembered: the same one again is a replay.
  if (nonces.has(`${timestamp}:${nonce}`)) return { ok: false, reason: 'nonce reused' };
  nonces.add(`${timestamp}:${nonce}`);
  return { ok: true, nonce, timestamp, signedParams: params.length };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  verified: Verified;
}

describe('proxy: OAuth 1.0a HMAC-SHA1 signatures, verified by the provider', () => {
  let s: TestServer;
  let up: Upstream;
  let base: string;
  const received: Received[] = [];
  const nonces = new Set<string>();
  const responses: RawResponse[] = [];
  /** The provider's consumer secret: the real one, whatever the integration holds. */
  const last = () => received[received.length - 1]!;

  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true } });
    up = await startUpstream({
      streaming: async (req, res) => {
        const body = await readBody(req);
        const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        const verified = verifyOAuth1(seen, CONSUMER_SECRET, nonces);
        received.push({ ...seen, verified });
        const answer = JSON.stringify(verified.ok ? { ok: true, nonce: verified.nonce, signedParams: verified.signedParams } : { error: 'invalid_request', reason: verified.reason });
        res.writeHead(verified.ok ? 200 : 401, { 'content-type': 'application/json', ...(verified.ok ? {} : { 'www-authenticate': 'OAuth realm="test"' }) });
        res.end(answer);
      },
    });
    base = s.baseUrl!;
    // A base path and a query of its own: the signature must cover the URL as finally sent.
    const baseUrl = `${up.url}/api/1.1?format=json`;
    await httpIntegration(s, 'o1', 'oauth1', baseUrl, { consumerKey: CONSUMER_KEY, testPath: '/account/verify_credentials.json' }, { secrets: { consumerSecret: CONSUMER_SECRET } });
    await connection(s, 'o1', 'c1', { type: 'oauth1', token: TOKEN, tokenSecret: TOKEN_SECRET });
    await httpIntegration(s, 'o1-wrong', 'oauth1', baseUrl, { consumerKey: CONSUMER_KEY }, { secrets: { consumerSecret: WRONG_CONSUMER_SECRET } });
    await connection(s, 'o1-wrong', 'c1', { type: 'oauth1', token: TOKEN, tokenSecret: TOKEN_SECRET });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  const proxy = async (method: string, target: string, opts: Parameters<typeof rawRequest>[3] = {}) => {
    const res = await rawRequest(base, method, target, { ...opts, headers: { ...bearer(s.adminKey), ...opts.headers } });
    responses.push(res);
    return res;
  };

  it('GET: spaces, "+", "~", Unicode, reserved characters and repeated names in the query, signed over the exact upstream URL', async () => {
    const query = "q=hello%20world+again&tilde=~x%7Ey&u=%E2%9C%93%C3%BC&tag=b&tag=a&tag=a&empty=&flag&bang=it's!*(x)&slash=a%2Fb&eq=%3D%253D";
    const res = await proxy('GET', `/v1/proxy/o1/c1/search/tweets.json?${query}`);
    expect(res.status, res.text).toBe(200);
    expect(last().url).toBe(`/api/1.1/search/tweets.json?format=json&${query}`);
    // format (the base URL's) + 11 of the caller's + 6 protocol parameters.
    expect(last().verified).toMatchObject({ ok: true, signedParams: 12 + 6 });
    const auth = last().headers.authorization!;
    expect(auth).toMatch(/^OAuth /);
    for (const part of [`oauth_consumer_key="${CONSUMER_KEY}"`, 'oauth_signature_method="HMAC-SHA1"', 'oauth_version="1.0"', `oauth_token="${TOKEN}"`]) expect(auth).toContain(part);
    expect(auth).not.toContain(CONSUMER_SECRET);
    expect(auth).not.toContain(TOKEN_SECRET);
  });

  it('other methods, and the base URL itself with no path or query of the caller\'s', async () => {
    for (const method of ['DELETE', 'HEAD', 'PUT']) {
      const res = await proxy(method, '/v1/proxy/o1/c1');
      expect(res.status, `${method}: ${res.text}`).toBe(200);
      expect(last()).toMatchObject({ method, url: '/api/1.1?format=json', verified: { ok: true } });
    }
  });

  it('POST with a form body: its parameters are signed with the query\'s, and the body is sent unchanged', async () => {
    const body = 'status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21&lang=en+GB&status=%E2%9C%93';
    const res = await proxy('POST', '/v1/proxy/o1/c1/statuses/update.json?include_entities=true', {
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body,
    });
    expect(res.status, res.text).toBe(200);
    expect(last()).toMatchObject({ method: 'POST', url: '/api/1.1/statuses/update.json?format=json&include_entities=true', body });
    // format + include_entities + 3 body parameters + 6 protocol parameters.
    expect(last().verified).toMatchObject({ ok: true, signedParams: 2 + 3 + 6 });
  });

  it('POST with a JSON body: not signed (only form bodies are), streamed as it is', async () => {
    const body = JSON.stringify({ text: 'a=b&c=d', n: 1 });
    const res = await proxy('POST', '/v1/proxy/o1/c1/tweets', { headers: { 'content-type': 'application/json' }, body });
    expect(res.status, res.text).toBe(200);
    expect(last()).toMatchObject({ body, verified: { ok: true, signedParams: 1 + 6 } });
  });

  it('a form body the proxy cannot read whole first (chunked, or over 64 KiB) is refused with 413 before anything is sent', async () => {
    const before = received.length;
    const chunked = await proxy('POST', '/v1/proxy/o1/c1/statuses/update.json', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
      body: Readable.from([Buffer.from('status=a'), Buffer.from('b')]),
    });
    expect(chunked.status).toBe(413);
    expect(chunked.json).toMatchObject({ code: 'payload_too_large', reason: 'proxy_oauth1_form_body' });
    const large = await proxy('POST', '/v1/proxy/o1/c1/statuses/update.json', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `status=${'x'.repeat(70 * 1024)}`,
    });
    expect(large.status).toBe(413);
    expect(large.json).toMatchObject({ reason: 'proxy_oauth1_form_body' });
    expect(received.length).toBe(before);
    // The same size as JSON is not signed, so it streams.
    const json = await proxy('POST', '/v1/proxy/o1/c1/media', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }) });
    expect(json.status, json.text).toBe(200);
  });

  it('oauth_* parameters of the caller\'s own (query or form body) are refused with 400 before anything is sent', async () => {
    const before = received.length;
    const inQuery = await proxy('GET', '/v1/proxy/o1/c1/x?a=1&oauth_token=forged');
    expect(inQuery.status).toBe(400);
    expect(inQuery.json).toMatchObject({ code: 'bad_request', reason: 'proxy_oauth1_parameter' });
    const inBody = await proxy('POST', '/v1/proxy/o1/c1/x', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&oauth%5Fsignature=forged' });
    expect(inBody.status).toBe(400);
    expect(received.length).toBe(before);
  });

  it('a wrong consumer secret: the provider\'s 401 passes through as it is (nothing to refresh, no retry)', async () => {
    const before = received.length;
    const res = await proxy('GET', '/v1/proxy/o1-wrong/c1/account/settings.json');
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'invalid_request', reason: 'invalid signature' });
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(received.length).toBe(before + 1);
    const { events } = await proxyAudit(s, 'o1-wrong/c1');
    expect(events[0]).toMatchObject({ outcome: 'success', status: 401 });
  });

  it('a fresh nonce on every request, concurrent ones included (the provider refuses a replayed nonce)', async () => {
    const before = received.length;
    for (let batch = 0; batch < 3; batch++) {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => proxy('GET', `/v1/proxy/o1/c1/statuses/home_timeline.json?count=${i}`)));
      for (const res of results) expect(res.status, res.text).toBe(200);
    }
    const seen = received.slice(before);
    expect(seen).toHaveLength(30);
    expect(new Set(seen.map((r) => r.verified.nonce)).size).toBe(30);
    for (const r of seen) expect(Math.abs(r.verified.timestamp! - Date.now() / 1000)).toBeLessThan(60);
  });

  it('the caller\'s own Authorization (or X-API-Key) never reaches the provider; only the signed OAuth header does', async () => {
    const runtime = await s.newKey('runtime');
    const viaBearer = await proxy('GET', '/v1/proxy/o1/c1/me', { headers: { authorization: `Bearer ${runtime}` } });
    expect(viaBearer.status, viaBearer.text).toBe(200);
    expect(last().headers.authorization).toMatch(/^OAuth oauth_consumer_key=/);
    expect(JSON.stringify(last().headers)).not.toContain(runtime);
    const viaKeyHeader = await rawRequest(base, 'GET', '/v1/proxy/o1/c1/me', { headers: { 'x-api-key': runtime } });
    responses.push(viaKeyHeader);
    expect(viaKeyHeader.status, viaKeyHeader.text).toBe(200);
    expect(last().headers['x-api-key']).toBeUndefined();
    expect(last().headers.authorization).toMatch(/^OAuth /);
    expect(JSON.stringify(last().headers)).not.toContain(runtime);
  });

  it('the connection test signs its request with the same signer: passes, and a wrong consumer secret is auth_failed', async () => {
    const ok = await s.request('POST', '/v1/integrations/o1/connections/c1/test');
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ ok: true });
    expect(last()).toMatchObject({ method: 'GET', url: '/api/1.1/account/verify_credentials.json?format=json', verified: { ok: true } });
    const wrong = await s.request('POST', '/v1/integrations/o1-wrong/connections/c1/test');
    expect(wrong.status, wrong.text).toBe(200);
    expect(wrong.body).toMatchObject({ ok: false, error: { code: 'auth_failed' } });
    responses.push({ status: ok.status, headers: ok.headers, body: Buffer.from(ok.text), text: ok.text, json: ok.body }, { status: wrong.status, headers: wrong.headers, body: Buffer.from(wrong.text), text: wrong.text, json: wrong.body });
  });

  it('the integration shows its consumer key and that a consumer secret is set, never the secret', async () => {
    const res = await s.request('GET', '/v1/integrations/o1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ authMethod: 'oauth1', config: { consumerKey: CONSUMER_KEY }, hasSecrets: { consumerSecret: true } });
    const conn = await s.request('GET', '/v1/integrations/o1/connections/c1');
    expect(conn.body.credentials).toMatchObject({ type: 'oauth1', hasSecrets: { token: true, tokenSecret: true } });
    responses.push({ status: res.status, headers: res.headers, body: Buffer.from(res.text), text: res.text, json: res.body }, { status: conn.status, headers: conn.headers, body: Buffer.from(conn.text), text: conn.text, json: conn.body });
  });

  it('canaries: neither secret (nor the token) is in any response, log line or audit event', async () => {
    expect(responses.length).toBeGreaterThan(40);
    for (const res of responses) {
      for (const canary of CANARIES) {
        expect(res.text, 'response body').not.toContain(canary);
        expect(JSON.stringify(res.headers), 'response headers').not.toContain(canary);
      }
    }
    const logs = s.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    const { text } = await proxyAudit(s);
    const raw = JSON.stringify(await s.lk.services.store.db.selectFrom('audit_events').selectAll().execute());
    expect(raw, 'positive control: the proxy calls are in the raw table').toContain('o1/c1');
    for (const canary of CANARIES) {
      for (const spelling of [canary, encodeURIComponent(canary), Buffer.from(canary).toString('base64').replace(/=+$/, '')]) {
        expect(logs, 'logs').not.toContain(spelling);
        expect(text, 'audit events').not.toContain(spelling);
        expect(raw, 'audit table').not.toContain(spelling);
      }
    }
  });
});
