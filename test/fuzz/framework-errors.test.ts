import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';

/**
 * Regressions found by the contract fuzzer: requests refused by Fastify's router or by
 * Node's HTTP parser, before any route runs, were answered with Fastify's own JSON instead
 * of a problem. Sent over a raw socket, byte for byte.
 */
describe('requests refused before routing are problems too', () => {
  let s: TestServer;
  let port: number;
  beforeAll(async () => {
    s = await startTestServer();
    port = Number(new URL(await s.lk.app.listen({ host: '127.0.0.1', port: 0 })).port);
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Sends raw bytes and parses the HTTP/1.1 answer. */
  const raw = (bytes: Buffer | string) =>
    new Promise<{ status: number; headers: Record<string, string>; body: any }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const [head, ...rest] = text.split('\r\n\r\n');
        const [statusLine, ...lines] = head!.split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        let body: unknown;
        try {
          body = JSON.parse(rest.join('\r\n\r\n'));
        } catch {
          body = rest.join('\r\n\r\n');
        }
        resolve({ status: Number(statusLine!.split(' ')[1]), headers, body });
      });
      socket.end(bytes);
    });

  const expectProblem400 = (res: Awaited<ReturnType<typeof raw>>) => {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(res.body).toMatchObject({ type: '/docs#problem-bad_request', title: 'Bad request', status: 400, code: 'bad_request', instance: '/' });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    expect(typeof res.body.detail).toBe('string');
  };

  it('a percent-escape that is not UTF-8 (router: FST_ERR_BAD_URL)', async () => {
    const res = await raw('GET /v1/integrations/%e2%82 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expectProblem400(res);
    expect(JSON.stringify(res.body)).not.toContain('%e2%82');
  });

  it('a path parameter longer than any identifier (router: FST_ERR_MAX_PARAM_LENGTH)', async () => {
    const res = await raw(`GET /v1/integrations/${'x'.repeat(700)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expectProblem400(res);
  });

  it('a request line Node refuses to parse, and headers over the size limit (clientError)', async () => {
    expectProblem400(await raw(Buffer.concat([Buffer.from('POST /v1/keys?='), Buffer.from([0xfc]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')])));
    expectProblem400(await raw(`GET /v1/providers HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expectProblem400(await raw('NOT-HTTP\r\n\r\n'));
  });

  it('a HEAD request Node refuses to parse gets the 400 head without a body (a body would be read as a next response)', async () => {
    const res = await raw(Buffer.concat([Buffer.from('HEAD /v1/proxy/a/b/'), Buffer.from('ü', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    expect(res.body).toBe('');
  });

  it('keeps serving afterwards', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
  });
});
