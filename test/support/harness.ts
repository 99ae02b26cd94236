import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer } from 'node:net';
import { type CreateOptions, type Latchkey, createLatchkey } from '../../src/app.js';
import { type LatchkeyConfig, loadConfig } from '../../src/config.js';
import { freshPostgresSchema } from './postgres.js';

export type EngineName = 'sqlite' | 'postgres';

export interface TestResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  /** Raw body text (sent as is, for malformed-input tests). */
  raw?: string;
  headers?: Record<string, string>;
}

/** A Latchkey started for one test file, with its captured log lines. */
export interface TestServer {
  lk: Latchkey;
  engine: EngineName;
  adminKey: string;
  dataDir: string;
  databaseUrl: string;
  /** Every log line the server wrote, as raw JSON text. */
  logs: string[];
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<TestResponse<T>>;
  /** `http://127.0.0.1:<port>` when started with `listen: true` (real sockets, e.g. for OAuth redirects). */
  baseUrl: string | null;
  /** Creates another tenant and returns its admin key. */
  newTenant(name?: string): Promise<{ tenantId: string; adminKey: string }>;
  /** Creates an API key in the admin key's tenant. */
  newKey(role: string, extra?: Record<string, unknown>, asKey?: string): Promise<string>;
  close(): Promise<void>;
}

export const BOOTSTRAP_KEY = 'test-bootstrap-admin-key-0123456789abcdef';

/**
 * Starts a server on a fresh SQLite file or a fresh PostgreSQL schema. Requests go
 * through Fastify's inject (the full HTTP pipeline without a socket).
 */
export async function startTestServer(
  opts: { engine?: EngineName; config?: Partial<LatchkeyConfig>; listen?: boolean; create?: CreateOptions } = {},
): Promise<TestServer> {
  const engine = opts.engine ?? 'sqlite';
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  let dropSchema: (() => Promise<void>) | null = null;
  let databaseUrl = join(dataDir, 'latchkey.db');
  if (engine === 'postgres') {
    const fresh = await freshPostgresSchema();
    databaseUrl = fresh.url;
    dropSchema = fresh.drop;
  }
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // A listening server needs its public URL (OAuth redirect URIs) before it starts.
  const port = opts.listen ? await freePort() : undefined;
  const listening = port ? { port, host: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}` } : {};
  // The webhook dispatcher's background loop is off unless a test asks for it
  // (`config: { webhookDispatcher: true }`) or drives passes with `lk.webhooks.runOnce()`:
  // deliveries then change no row behind a test's back (state snapshots stay exact).
  const config = loadConfig({}, { dataDir, databaseUrl, bootstrapKey: BOOTSTRAP_KEY, logLevel: 'debug', rateLimitPerSecond: 0, webhookDispatcher: false, ...listening, ...opts.config });
  const lk = await createLatchkey(config, { logDestination: destination, ...opts.create });
  await lk.app.ready();
  if (port) await lk.app.listen({ port, host: '127.0.0.1' });

  const request: TestServer['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? BOOTSTRAP_KEY : o.key;
    if (key) headers.authorization ??= `Bearer ${key}`;
    let payload: string | undefined;
    if (o.raw !== undefined) payload = o.raw;
    else if (o.body !== undefined) payload = JSON.stringify(o.body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await lk.app.inject({ method: method as any, url: path, headers, ...(payload !== undefined ? { payload } : {}) });
    let body: unknown = undefined;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, headers: res.headers as TestResponse['headers'], body: body as any, text: res.body };
  };

  const server: TestServer = {
    lk,
    engine,
    adminKey: BOOTSTRAP_KEY,
    baseUrl: port ? `http://127.0.0.1:${port}` : null,
    dataDir,
    databaseUrl,
    logs,
    request,
    async newTenant(name = 'Other tenant') {
      const res = await request('POST', '/v1/tenants', { body: { name } });
      if (res.status !== 201) throw new Error(`tenant create failed: ${res.text}`);
      return { tenantId: res.body.tenant.id, adminKey: res.body.adminKey };
    },
    async newKey(role, extra = {}, asKey) {
      const res = await request('POST', '/v1/api-keys', { key: asKey ?? BOOTSTRAP_KEY, body: { name: `${role} key`, role, ...extra } });
      if (res.status !== 201) throw new Error(`key create failed: ${res.text}`);
      return res.body.key;
    },
    async close() {
      await lk.close();
      if (dropSchema) await dropSchema();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A valid GitHub integration body (OAuth client), for tests that need one. */
export function githubIntegration(key = 'github-prod', clientSecret = 'gh-client-secret-value-1') {
  return {
    key,
    provider: 'github',
    displayName: 'GitHub (production)',
    authMethod: 'oauth2',
    config: { clientId: 'Iv1.0123456789abcdef' },
    secrets: { clientSecret },
  };
}
