import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import Fastify from 'fastify';
import { pathToFileURL } from 'node:url';
import type * as sourceApp from '../../src/app.js';
import type * as sourceConfig from '../../src/config.js';
import { createBenchSchema } from './postgres.js';

/**
 * Servers under test, started inside the current process. The benchmarks never call
 * these directly: bench/lib/server-process.ts runs them in a child process so the load
 * generator does not share an event loop (or a core) with the server.
 */

export type Engine = 'sqlite' | 'postgres';
export type TargetKind = 'hello' | 'latchkey' | 'passthrough';

export interface RunningTarget {
  kind: TargetKind;
  engine: Engine | null;
  url: string;
  adminKey: string | null;
  close(): Promise<void>;
}

/** The bootstrap admin key every benchmark server gets (32+ characters). */
export const BENCH_ADMIN_KEY = 'bench-bootstrap-admin-key-0123456789abcdef';

/** A connection record as the read path returns it (about 700 bytes of JSON). */
export const SAMPLE_RECORD = {
  id: 'conn-000001',
  uid: 'con_01JBENCH0000000000000000000',
  integration: 'bench-read',
  provider: 'github',
  config: {},
  metadata: { team: 'bench', seq: 'conn-000001' },
  labels: {},
  enabled: true,
  credentials: { type: 'oauth2', hasSecrets: { accessToken: true, refreshToken: true }, expiresAt: '2030-01-01T00:00:00.000Z', scopes: null, lastRefreshedAt: null },
  status: 'active',
  statusReason: null,
  health: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'key_01JBENCH000000000000000000',
  updatedBy: 'key_01JBENCH000000000000000000',
  version: 1,
};

/**
 * A bare Fastify (same version as Latchkey) answering `GET /` with `{hello:'world'}`, and
 * `GET /record` with a constant connection-sized record (to separate payload size from
 * everything else).
 */
export async function startHelloWorld(): Promise<RunningTarget> {
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ hello: 'world' }));
  app.get('/record', async () => SAMPLE_RECORD);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { kind: 'hello', engine: null, url: address, adminKey: null, close: () => app.close() };
}

/**
 * A bare Fastify (same version as Latchkey) that forwards every `GET` to `upstreamUrl`
 * over a keep-alive pool and streams the answer back: no authentication, no database, no
 * credential, no audit, no header filtering. It is the proxy benchmark's ceiling: what any
 * proxy built on Node's HTTP server and client reaches on this host, before doing any of
 * the work Latchkey's proxy does.
 */
export async function startPassThrough(upstreamUrl: string): Promise<RunningTarget> {
  const upstream = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const app = Fastify({ logger: false });
  app.get('/*', (request, reply) => {
    const path = request.url.replace(/^\/[^/]*\/[^/]*\/[^/]*\/[^/]*/, '') || '/';
    const outbound = httpRequest({ host: upstream.hostname, port: upstream.port, path, method: 'GET', agent }, (answer) => {
      reply.code(answer.statusCode ?? 502).header('content-type', answer.headers['content-type'] ?? 'application/octet-stream').send(answer);
    });
    outbound.on('error', (error) => reply.code(502).send({ error: error.message }));
    outbound.end();
    return reply;
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    kind: 'passthrough',
    engine: null,
    url: address,
    adminKey: null,
    close: async () => {
      await app.close();
      agent.destroy();
    },
  };
}

/**
 * Latchkey on a fresh temporary data directory (SQLite) or a fresh `bench_<random>`
 * PostgreSQL schema, logging at warn, without the per-key rate limit. Closing it removes
 * the directory and drops the schema.
 */
/** Latchkey's entry points: the compiled build in BENCH_DIST (see options.ts --dist), else the sources. */
async function latchkeyModules(): Promise<{ createLatchkey: typeof sourceApp.createLatchkey; loadConfig: typeof sourceConfig.loadConfig }> {
  // Imported on demand, so a compiled run does not also load the sources.
  const dist = process.env.BENCH_DIST;
  const app: typeof sourceApp = dist ? await import(pathToFileURL(join(dist, 'app.js')).href) : await import('../../src/app.js');
  const config: typeof sourceConfig = dist ? await import(pathToFileURL(join(dist, 'config.js')).href) : await import('../../src/config.js');
  return { createLatchkey: app.createLatchkey, loadConfig: config.loadConfig };
}

export async function startLatchkey(engine: Engine): Promise<RunningTarget> {
  const { createLatchkey, loadConfig } = await latchkeyModules();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const schema = engine === 'postgres' ? await createBenchSchema() : null;
  const cleanup = async () => {
    if (schema) await schema.drop().catch((e: unknown) => process.stderr.write(`bench: dropping ${schema.schema} failed: ${(e as Error).message}\n`));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const config = loadConfig(
      {},
      {
        host: '127.0.0.1',
        // The soak run needs a known port (OAuth redirect URI) and loopback upstreams.
        port: Number(process.env.BENCH_PORT ?? 0),
        ...(process.env.BENCH_PORT ? { publicUrl: `http://127.0.0.1:${process.env.BENCH_PORT}` } : {}),
        allowPrivateNetworks: process.env.BENCH_ALLOW_PRIVATE_NETWORKS === '1',
        ...(process.env.BENCH_REFRESH_MARGIN_MS ? { refreshMarginMs: Number(process.env.BENCH_REFRESH_MARGIN_MS) } : {}),
        dataDir,
        databaseUrl: schema ? schema.url : join(dataDir, 'latchkey.db'),
        // A throwaway root key, so nothing is generated into the data dir (and no warning).
        rootKey: randomBytes(32).toString('base64'),
        bootstrapKey: BENCH_ADMIN_KEY,
        logLevel: 'warn',
        rateLimitPerSecond: 0,
      },
    );
    const lk = await createLatchkey(config);
    // What-if route for bench/connection-read.ts --floor (SQLite only, see floor-route.ts).
    // Loaded only then: it imports parts of the sources.
    const closeFloor = process.env.BENCH_FLOOR === '1' && !schema ? (await import('./floor-route.js')).registerFloorRoute(lk, config.databaseUrl) : () => undefined;
    if (process.env.BENCH_TRACE_SLOW_MS) {
      // Debug aid: log requests slower than N ms as seen by the server (Fastify's own clock).
      const limit = Number(process.env.BENCH_TRACE_SLOW_MS);
      const t0 = Date.now();
      lk.app.addHook('onResponse', async (request, reply) => {
        if (reply.elapsedTime > limit) process.stderr.write(`slow: ${request.method} ${request.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)} ms, ended at +${Date.now() - t0} ms\n`);
      });
    }
    const address = await lk.app.listen({ host: '127.0.0.1', port: config.port });
    return {
      kind: 'latchkey',
      engine,
      url: address,
      adminKey: BENCH_ADMIN_KEY,
      async close() {
        try {
          closeFloor();
          await lk.close();
        } finally {
          await cleanup();
        }
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
