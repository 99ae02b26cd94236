import { type AddressInfo, type Socket, createServer as createNetServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, freePort, startTestServer } from '../support/harness.js';
import { type Upstream, bearer, connection, httpIntegration, rawRequest, startUpstream } from './support.js';

const KEY = 'canary-failure-key-6a01bd3f77';
const TIMEOUT_MS = 600;

describe('proxy: upstream failures, timeouts, limits and the outbound guard', () => {
  let s: TestServer;
  let up: Upstream;
  let hanging: Upstream;
  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true, proxyTimeoutMs: TIMEOUT_MS, proxyBodyLimitBytes: 256 * 1024 } });
    up = await startUpstream();
    // Accepts connections and requests, never answers.
    hanging = await startUpstream({ streaming: (req) => void req.resume() });
    await httpIntegration(s, 'api', 'api_key', up.url, { apiKeyQueryParam: 'key' });
    await connection(s, 'api', 'c1', { type: 'api_key', apiKey: KEY });
    await httpIntegration(s, 'hangs', 'api_key', hanging.url, { apiKeyQueryParam: 'key' });
    await connection(s, 'hangs', 'c1', { type: 'api_key', apiKey: KEY });
    const closed = await freePort();
    await httpIntegration(s, 'down', 'api_key', `http://127.0.0.1:${closed}`, { apiKeyQueryParam: 'key' });
    await connection(s, 'down', 'c1', { type: 'api_key', apiKey: KEY });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
    await hanging?.close();
  });

  const proxy = (target: string, opts: Parameters<typeof rawRequest>[3] = {}) => rawRequest(s.baseUrl!, opts.body ? 'POST' : 'GET', target, { ...opts, headers: { ...bearer(s.adminKey), ...opts.headers } });

  it('an unreachable upstream is a 502 upstream_failed problem without the credential', async () => {
    const res = await proxy('/v1/proxy/down/c1/x');
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json).toMatchObject({ code: 'upstream_failed', reason: 'upstream_unreachable' });
    expect(res.text).not.toContain(KEY);
  });

  it('an upstream that never answers is a 504 upstream_timeout, within the configured timeout', async () => {
    const started = Date.now();
    const res = await proxy('/v1/proxy/hangs/c1/x');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.json).toMatchObject({ code: 'upstream_timeout', reason: 'upstream_timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
    expect(res.text).not.toContain(KEY);
  });

  it('an upstream that trickles its response head (one byte every 300 ms, never silent for the timeout) is a 504 within the timeout', async () => {
    // node:http cannot write a head slowly: a raw TCP server does.
    const sockets = new Set<Socket>();
    const trickler = createNetServer((socket) => {
      sockets.add(socket);
      let received = '';
      let answering = false;
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (answering || !received.includes('\r\n\r\n')) return;
        answering = true;
        socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
        const started = Date.now();
        const timer = setInterval(() => {
          // Bounded, so that without a head deadline the call ends (late, with a 200) instead of hanging.
          if (Date.now() - started > 4000) {
            clearInterval(timer);
            socket.end('\r\nContent-Length: 2\r\n\r\nok');
          } else socket.write('a');
        }, 300);
        socket.on('close', () => clearInterval(timer));
      });
    });
    await new Promise<void>((resolve) => trickler.listen(0, '127.0.0.1', resolve));
    try {
      await httpIntegration(s, 'trickles', 'api_key', `http://127.0.0.1:${(trickler.address() as AddressInfo).port}`, { apiKeyQueryParam: 'key' });
      await connection(s, 'trickles', 'c1', { type: 'api_key', apiKey: KEY });
      const started = Date.now();
      const res = await proxy('/v1/proxy/trickles/c1/x');
      const elapsed = Date.now() - started;
      expect(res.status, res.text).toBe(504);
      expect(res.json).toMatchObject({ code: 'upstream_timeout', reason: 'upstream_timeout' });
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
      expect(res.text).not.toContain(KEY);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => trickler.close(() => resolve()));
    }
  });

  it('an upstream that stalls mid-body is cut off after the timeout (the caller sees the stream end early)', async () => {
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
      res.write(Buffer.alloc(100, 1)); // …and never the rest
    };
    try {
      const started = Date.now();
      const outcome = await proxy('/v1/proxy/api/c1/stall').then(
        (res) => ({ ok: true as const, bytes: res.body.length }),
        (error: Error) => ({ ok: false as const, error }),
      );
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
      // Either the socket was cut (error) or the body ended short: never the promised 1000 bytes.
      if (outcome.ok) expect(outcome.bytes).toBeLessThan(1000);
    } finally {
      up.handler = (await import('./support.js')).echo;
    }
  });

  it('a declared body over the proxy limit is a 413 before anything is sent', async () => {
    const before = up.seen.length;
    const res = await proxy('/v1/proxy/api/c1/upload', { body: Buffer.alloc(300 * 1024, 7) });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 'payload_too_large', reason: 'proxy_body_too_large' });
    expect(up.seen.length).toBe(before);
  });

  it('an unsized (chunked) body is counted as it streams and cut at the limit', async () => {
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(16 * 1024, 3)); // 640 KiB
    const before = up.seen.length;
    const res = await proxy('/v1/proxy/api/c1/upload', { body: Readable.from(chunks), headers: { 'transfer-encoding': 'chunked' } });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 'payload_too_large', reason: 'proxy_body_too_large' });
    expect(res.headers.connection).toBe('close');
    // The upstream got at most the limit and never a complete request (no final chunk).
    const seen = up.seen.slice(before);
    expect(seen.every((r) => r.bytes <= 256 * 1024 && r.sha256 === '')).toBe(true);
  });

  it('a body within the limit of a size the proxy does not buffer streams through (no retry needed)', async () => {
    const body = Buffer.alloc(200 * 1024, 9);
    const res = await proxy('/v1/proxy/api/c1/upload', { body });
    expect(res.status, res.text).toBe(200);
    expect(res.json.bytes).toBe(body.length);
  });

  it('a caller that goes away abandons the upstream request too (waiting for an answer, or mid-body)', async () => {
    const logsBefore = s.logs.length;
    const closed: string[] = [];
    let waitClosedAfter = Infinity;
    let waitStarted = 0;
    const slow = await startUpstream({
      streaming: (req, res) => {
        req.resume();
        res.on('close', () => {
          closed.push(req.url ?? '');
          if (req.url === '/wait') waitClosedAfter = Date.now() - waitStarted;
        });
        if (req.url?.startsWith('/drip')) {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const timer = setInterval(() => res.write(Buffer.alloc(1024, 1)), 20);
          res.on('close', () => clearInterval(timer));
        } // '/wait' never answers
      },
    });
    try {
      await httpIntegration(s, 'slow', 'pat', slow.url);
      await connection(s, 'slow', 'c1', { type: 'pat', token: KEY });
      const url = new URL(s.baseUrl!);
      const { request } = await import('node:http');
      for (const path of ['/wait', '/drip']) {
        if (path === '/wait') waitStarted = Date.now();
        await new Promise<void>((resolve) => {
          const req = request({ host: url.hostname, port: url.port, path: `/v1/proxy/slow/c1${path}`, headers: bearer(s.adminKey), agent: false });
          req.on('error', () => resolve());
          req.on('response', (res) => res.once('data', () => req.destroy()));
          req.end();
          if (path === '/wait') setTimeout(() => req.destroy(), 150);
          req.on('close', () => resolve());
        });
      }
      const deadline = Date.now() + 2000;
      while (closed.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(closed.sort()).toEqual(['/drip', '/wait']);
      // Closed because the caller left (at 150 ms), not by the proxy's own timeout.
      expect(waitClosedAfter).toBeLessThan(TIMEOUT_MS);
      // A caller leaving is no server fault: no error-level log line, but the call is audited as an error.
      const errors = s.logs.slice(logsBefore).filter((line) => line.split('\n').some((l) => l.trim() !== '' && Number(JSON.parse(l).level) >= 50));
      expect(errors).toEqual([]);
      const audit = await s.lk.services.store.db.selectFrom('audit_events').select(['outcome', 'resource_id']).where('action', '=', 'integrations.proxy').where('resource_id', '=', 'slow/c1').execute();
      expect(audit.map((a) => a.outcome)).toContain('error');
    } finally {
      await slow.close();
    }
  });

  it('no credential value in any log line', () => {
    expect(s.logs.join('\n')).not.toContain(KEY);
  });
});

describe('proxy: the outbound guard decides where it may connect', () => {
  let s: TestServer;
  let up: Upstream;
  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: false } });
    up = await startUpstream();
    await httpIntegration(s, 'blocked', 'pat', up.url);
    await connection(s, 'blocked', 'c1', { type: 'pat', token: KEY });
    await httpIntegration(s, 'listed', 'pat', up.url, {}, { networkAllowList: ['127.0.0.1'] });
    await connection(s, 'listed', 'c1', { type: 'pat', token: KEY });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it('a loopback upstream is refused (502 destination_refused) unless the integration\'s allow-list names it', async () => {
    const refused = await rawRequest(s.baseUrl!, 'GET', '/v1/proxy/blocked/c1/x', { headers: bearer(s.adminKey) });
    expect(refused.status).toBe(502);
    expect(refused.json).toMatchObject({ code: 'upstream_failed', reason: 'destination_refused' });
    expect(up.seen).toHaveLength(0);
    const allowed = await rawRequest(s.baseUrl!, 'GET', '/v1/proxy/listed/c1/x', { headers: bearer(s.adminKey) });
    expect(allowed.status, allowed.text).toBe(200);
    expect(up.seen).toHaveLength(1);
    // The pools are per integration: the allowed integration's open socket never serves the refused one.
    const again = await rawRequest(s.baseUrl!, 'GET', '/v1/proxy/blocked/c1/x', { headers: bearer(s.adminKey) });
    expect(again.status).toBe(502);
    expect(up.seen).toHaveLength(1);
  });
});
