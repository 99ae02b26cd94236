import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { type Upstream, connection, httpIntegration, startUpstream } from './support.js';

const TOTAL = 100 * 1024 * 1024;
const CHUNK = 64 * 1024;
/**
 * Peak growth allowed while 100 MiB pass through. Holding the body would retain all of it;
 * streaming retains a few chunks per hop. Client, proxy and upstream all live in this
 * process beside the test runner, and V8 releases buffers lazily even after a full GC:
 * measured peaks were 9–33 MiB whatever the body size (20 MB, 50 MiB and 95 MB gave the
 * same), so the bound sits well between that noise and the body (a 50 MiB body left the
 * noise within a few MiB of a 32 MiB bound: 1 run in 5 failed).
 */
const MAX_GROWTH = 45 * 1024 * 1024;
/** RSS also keeps the allocator's freed socket buffers for a while: measured 15–58 MiB. */
const MAX_RSS_GROWTH = 80 * 1024 * 1024;
/** 200 MiB through three hops with a full GC every 200 ms, on a shared two-core machine. */
const SLOW_MS = 120_000;

/** 100 MiB generated on the fly from a small random block (never held whole), with its SHA-256 as it goes. */
function generated(onChunk: (sent: number) => void) {
  const block = randomBytes(CHUNK);
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= TOTAL) {
        this.push(null);
        return;
      }
      // A different chunk each time (block rotated by the offset), so a reordered or duplicated chunk changes the hash.
      const chunk = Buffer.alloc(CHUNK);
      const shift = (sent / CHUNK) % CHUNK;
      block.copy(chunk, 0, shift);
      block.copy(chunk, CHUNK - shift, 0, shift);
      sent += chunk.length;
      hash.update(chunk);
      onChunk(sent);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex'), sent: () => sent };
}

// A full GC before each sample, so what is measured is what is retained (in flight), not
// garbage V8 has yet to collect: external buffers alone may reach 64 MB before it bothers.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Samples memory every 200 ms: the peak growth of RSS and of retained JS heap + array
 * buffers over the baseline. Each sample runs a full GC first and reads 20 ms later, once
 * V8's concurrent sweeper has released the collected buffers' memory.
 */
function memoryWatch() {
  gc();
  const base = process.memoryUsage();
  let peakRss = 0;
  let peakBuffers = 0;
  const read = () => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss - base.rss);
    peakBuffers = Math.max(peakBuffers, now.heapUsed + now.arrayBuffers - (base.heapUsed + base.arrayBuffers));
  };
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    gc();
    pending = new Promise((resolve) => setTimeout(() => resolve(read()), 20));
  }, 200);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      return { rss: peakRss, buffers: peakBuffers };
    },
  };
}

describe('proxy: bodies stream in both directions (100 MiB), intact and without buffering', () => {
  let s: TestServer;
  let up: Upstream;
  /** What the upstream's streaming handler observed. */
  const observed = { firstByteAtSent: -1, produced: 0 };
  let clientSent = () => 0;

  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true, logLevel: 'info' } });
    up = await startUpstream({
      streaming: (req, res) => {
        if (req.method === 'PUT') {
          // Upload: hash as it arrives; note how much the client had sent when the first byte got here.
          const hash = createHash('sha256');
          let bytes = 0;
          req.on('data', (chunk: Buffer) => {
            if (bytes === 0) observed.firstByteAtSent = clientSent();
            bytes += chunk.length;
            hash.update(chunk);
          });
          req.on('end', () => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
          });
          return;
        }
        // Download: generated as the caller reads it (backpressure decides the pace).
        const source = generated((sent) => (observed.produced = sent));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL), 'x-sha256-trailer': 'see-body-end' });
        source.stream.pipe(res);
        source.stream.on('end', () => (download.sha256 = source.digest()));
        req.resume();
      },
    });
    await httpIntegration(s, 'bulk', 'pat', up.url);
    await connection(s, 'bulk', 'c1', { type: 'pat', token: 'canary-stream-token-99c3e1a0b7' });
  });
  const download = { sha256: '' };
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it('upload: 100 MiB reach the provider byte for byte while the client is still sending, memory stays flat', async () => {
    const source = generated(() => undefined);
    clientSent = source.sent;
    const watch = memoryWatch();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(s.baseUrl!);
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: '/v1/proxy/bulk/c1/blob',
        headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) },
        agent: false,
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      source.stream.pipe(req);
    });
    const peak = await watch.stop();
    expect(answer.status, answer.body).toBe(200);
    const received = JSON.parse(answer.body) as { bytes: number; sha256: string };
    expect(received.bytes).toBe(TOTAL);
    expect(received.sha256).toBe(source.digest());
    // Streaming, not store-and-forward: the first byte arrived long before the client was done.
    expect(observed.firstByteAtSent).toBeGreaterThan(0);
    expect(observed.firstByteAtSent).toBeLessThan(TOTAL / 4);
    expect(peak.buffers, `heap+buffers grew by ${(peak.buffers / 1048576).toFixed(1)} MiB`).toBeLessThan(MAX_GROWTH);
    expect(peak.rss, `RSS grew by ${(peak.rss / 1048576).toFixed(1)} MiB`).toBeLessThan(MAX_RSS_GROWTH);
  }, SLOW_MS);

  it('download: 100 MiB reach the caller byte for byte while the provider is still producing, memory stays flat', async () => {
    const watch = memoryWatch();
    const got = await new Promise<{ status: number; bytes: number; sha256: string; producedAtFirstByte: number; length: string | undefined }>((resolve, reject) => {
      const url = new URL(s.baseUrl!);
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'GET', path: '/v1/proxy/bulk/c1/blob', headers: { authorization: `Bearer ${s.adminKey}` }, agent: false });
      req.on('error', reject);
      req.on('response', (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        let producedAtFirstByte = -1;
        res.on('data', (chunk: Buffer) => {
          if (bytes === 0) producedAtFirstByte = observed.produced;
          bytes += chunk.length;
          hash.update(chunk);
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex'), producedAtFirstByte, length: res.headers['content-length'] }));
      });
      req.end();
    });
    const peak = await watch.stop();
    expect(got.status).toBe(200);
    expect(got.length).toBe(String(TOTAL));
    expect(got.bytes).toBe(TOTAL);
    expect(got.sha256).toBe(download.sha256);
    expect(got.producedAtFirstByte).toBeGreaterThan(0);
    expect(got.producedAtFirstByte).toBeLessThan(TOTAL / 4);
    expect(peak.buffers, `heap+buffers grew by ${(peak.buffers / 1048576).toFixed(1)} MiB`).toBeLessThan(MAX_GROWTH);
    expect(peak.rss, `RSS grew by ${(peak.rss / 1048576).toFixed(1)} MiB`).toBeLessThan(MAX_RSS_GROWTH);
  }, SLOW_MS);
});
