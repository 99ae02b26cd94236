import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ServedProcess, serveProcess } from '../support/serve-process.js';

const ADMIN_KEY = 'shutdown-test-bootstrap-admin-key-0123456789';
const UPSTREAM_KEY = 'upstream-key-for-shutdown-test';

/** Resolves with the connect error code, or 'connected'. */
const tryConnect = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });

/**
 * An upstream whose `/slow` answers only when the test releases it, and whose `/hang`
 * never answers. `arrived` resolves when a request reached it.
 */
function startUpstream() {
  let arrive!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  const released = new Promise<void>((r) => (release = r));
  const server: Server = createServer((req, res) => {
    arrive();
    if (req.url?.startsWith('/hang')) return;
    void released.then(() => {
      const ok = req.headers.authorization === `Bearer ${UPSTREAM_KEY}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise<{ server: Server; url: string; arrived: Promise<void>; release: () => void }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrived, release })),
  );
}

type Served = ServedProcess;

const serve = (env: Record<string, string>): Promise<Served> => serveProcess({ LATCHKEY_BOOTSTRAP_KEY: ADMIN_KEY, ...env });

async function api(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** An `http` integration whose connection test calls `testPath` on the upstream. */
async function slowConnection(port: number, upstreamUrl: string, testPath: string): Promise<string> {
  const integration = await api(port, 'POST', '/v1/integrations', {
    key: 'slow-api',
    provider: 'http',
    displayName: 'Slow API',
    authMethod: 'api_key',
    config: { baseUrl: upstreamUrl, testPath },
    networkAllowList: ['127.0.0.1'],
  });
  expect(integration.status, JSON.stringify(integration.body)).toBe(201);
  const connection = await api(port, 'POST', '/v1/integrations/slow-api/connections', { id: 'acct-1', credentials: { type: 'api_key', apiKey: UPSTREAM_KEY } });
  expect(connection.status, JSON.stringify(connection.body)).toBe(201);
  return '/v1/integrations/slow-api/connections/acct-1/test';
}

describe('latchkey serve: graceful shutdown', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let running: Served | null = null;
  beforeEach(async () => {
    upstream = await startUpstream();
  });
  afterEach(() => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    running = null;
    upstream.release();
    upstream.server.closeAllConnections();
    upstream.server.close();
  });

  it('on SIGTERM refuses new connections, lets the in-flight request finish with its normal answer, and exits 0', async () => {
    running = await serve({ LATCHKEY_SHUTDOWN_TIMEOUT_MS: '15000' });
    const { port } = running;
    const path = await slowConnection(port, upstream.url, '/slow');

    const slow = api(port, 'POST', path);
    await upstream.arrived; // the test request is in flight, waiting on the upstream
    running.child.kill('SIGTERM');

    // The listener closes at once: new connections are refused while the request is still running.
    let code = '';
    const deadline = Date.now() + 10_000;
    while ((code = await tryConnect(port)) === 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(code).toBe('ECONNREFUSED');
    expect(running.child.exitCode).toBeNull();

    upstream.release();
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true, error: null });
    expect(await running.exited).toBe(0);
    expect(running.out()).toContain('draining in-flight requests');
    expect(running.out()).toContain('shut down cleanly');
    expect(running.out()).not.toContain('were cut');
  }, 150_000);

  it('cuts requests still running after LATCHKEY_SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    running = await serve({ LATCHKEY_SHUTDOWN_TIMEOUT_MS: '500', LATCHKEY_TEST_TIMEOUT_MS: '60000' });
    const { port } = running;
    const path = await slowConnection(port, upstream.url, '/hang');
    const hung = api(port, 'POST', path).then(
      (r) => `answered ${r.status}`,
      () => 'cut',
    );
    await upstream.arrived;
    const signalled = Date.now();
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(await hung).toBe('cut');
    expect(running.out()).toContain('were cut');
  }, 150_000);
});
