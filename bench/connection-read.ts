/**
 * Read-path benchmark: `GET /v1/integrations/{key}/connections/{id}` at 50 connections,
 * cycling over every seeded connection, against hello-world measured right before it in
 * the same run. Server and load generator are separate processes.
 *
 *   node --import tsx bench/connection-read.ts [--engine sqlite|postgres|both] [--strict]
 *        [--duration 10] [--seed 1000] [--probe 5] [--json] [--out file.json] [--cpu-prof dir]
 *
 * Ratios are against the mean of hello-world runs right before and right after (each in
 * its own child process). A 1-connection latency probe (--probe S, 0 = off) shows the
 * latency without queueing.
 *
 * Target (foundation issue): on SQLite, read ≥ 60 % of hello-world and p99 < 5 ms.
 * Prints PASS/FAIL; exits non-zero on FAIL only with --strict.
 */
import { isDeepStrictEqual } from 'node:util';
import { authHeaders, call, createConnections, createIntegration, getConnection } from './lib/api.js';
import { FLOOR_PREFIX, HOOKS_ONLY_PATH } from './lib/floor-route.js';
import { bracketWithHello, helloRows, measureHello } from './lib/hello.js';
import { type LoadResult, runLoad } from './lib/load.js';
import { isMain, runMain } from './lib/main.js';
import { type BenchOptions, hostInfo, parseBenchOptions } from './lib/options.js';
import { type BenchReport, type BenchRow, emit, rowOf } from './lib/report.js';
import { type Engine, withServer } from './lib/servers.js';

export const READ_TARGET = { minRatio: 0.6, maxP99Ms: 5 } as const;
const KEY = 'bench-read';

export interface SectionResult {
  rows: BenchRow[];
  raw: Record<string, LoadResult>;
}

export interface ReadResults {
  /** 50 connections (the target). */
  loaded: LoadResult;
  /** One connection: latency without queueing (information). */
  unloaded: LoadResult | null;
  /** The bench-only what-if route (--floor). */
  floor: LoadResult | null;
  /** The bench-only route on the same instance that does no work (--floor). */
  hooksOnly: LoadResult | null;
}

export async function readOnce(engine: Engine, opts: BenchOptions): Promise<ReadResults> {
  const floor = opts.floor && engine === 'sqlite';
  return withServer('latchkey', engine, { cpuProfDir: opts.cpuProfDir, env: floor ? { BENCH_FLOOR: '1' } : {} }, async (server) => {
    const n = Math.max(1, opts.seed);
    const ids = Array.from({ length: n }, (_, i) => `conn-${String(i).padStart(6, '0')}`);
    const t0 = Date.now();
    await createIntegration(server, KEY);
    await createConnections(server, KEY, ids);
    process.stderr.write(`bench: ${engine}: seeded 1 integration + ${n} connections in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const sample = await getConnection(server, KEY, ids[0]!);
    if (sample.credentials?.hasSecrets?.accessToken !== true) throw new Error(`unexpected read body: ${JSON.stringify(sample)}`);

    const paths = ids.map((id) => `/v1/integrations/${KEY}/connections/${id}`);
    let next = 0;
    const requests = [
      {
        method: 'GET',
        path: paths[0]!,
        headers: authHeaders(server),
        // Round-robin over every seeded connection (a different row each request).
        setupRequest: (req: { path?: string }) => ({ ...req, path: paths[next++ % paths.length]! }),
      },
    ];
    const base = { url: server.url, requests, server };
    if (opts.warmupS > 0) await runLoad({ ...base, connections: opts.connections, durationS: opts.warmupS, title: `read warm-up (${engine})` });
    process.stderr.write(`bench: ${engine}: connection read ${opts.durationS}s @ ${opts.connections} connections…\n`);
    const loaded = await runLoad({ ...base, connections: opts.connections, durationS: opts.durationS, title: `connection read (${engine})` });
    let unloaded: LoadResult | null = null;
    if (opts.probeS > 0) {
      process.stderr.write(`bench: ${engine}: connection read ${opts.probeS}s @ 1 connection (latency probe)…\n`);
      unloaded = await runLoad({ ...base, connections: 1, durationS: opts.probeS, title: `connection read, 1 connection (${engine})` });
    }
    let floorResult: LoadResult | null = null;
    let hooksOnly: LoadResult | null = null;
    if (floor) {
      const real = await call(server, 'GET', paths[0]!);
      const what = await call(server, 'GET', `${FLOOR_PREFIX}/${KEY}/connections/${ids[0]}`);
      if (what.status !== 200 || !isDeepStrictEqual(real.body, what.body)) {
        process.stderr.write(`bench: WARNING the floor route's body differs from the real route's:\n  real:  ${JSON.stringify(real.body)}\n  floor: ${JSON.stringify(what.body)}\n`);
      }
      const floorPaths = ids.map((id) => `${FLOOR_PREFIX}/${KEY}/connections/${id}`);
      let j = 0;
      const floorRequests = [{ ...requests[0]!, setupRequest: (req: { path?: string }) => ({ ...req, path: floorPaths[j++ % floorPaths.length]! }) }];
      if (opts.warmupS > 0) await runLoad({ url: server.url, server, requests: floorRequests, connections: opts.connections, durationS: opts.warmupS });
      process.stderr.write(`bench: ${engine}: what-if floor route ${opts.durationS}s @ ${opts.connections} connections…\n`);
      floorResult = await runLoad({ url: server.url, server, requests: floorRequests, connections: opts.connections, durationS: opts.durationS, title: `floor route (${engine})` });
      process.stderr.write(`bench: ${engine}: hooks-only route ${opts.durationS}s @ ${opts.connections} connections…\n`);
      hooksOnly = await runLoad({ url: server.url, server, requests: [{ method: 'GET', path: HOOKS_ONLY_PATH }], connections: opts.connections, durationS: opts.durationS, title: `hooks-only route (${engine})` });
    }
    return { loaded, unloaded, floor: floorResult, hooksOnly };
  });
}

/** Runs the read benchmark on each engine, bracketed by its own hello-world baselines. */
export async function runConnectionRead(opts: BenchOptions): Promise<SectionResult> {
  const rows: BenchRow[] = [];
  const raw: Record<string, LoadResult> = {};
  for (const engine of opts.engines) {
    const b = await bracketWithHello(opts, `${engine} read`, () => readOnce(engine, opts));
    raw[`hello-before-read-${engine}`] = b.before;
    raw[`hello-after-read-${engine}`] = b.after;
    raw[`read-${engine}`] = b.value.loaded;
    rows.push(...helloRows(b, `${engine} read`));
    const row = rowOf('connection-read', engine, 'GET connection', b.value.loaded, b.helloThroughput, undefined, b.helloCpuUsPerReq);
    if (engine === 'sqlite') {
      row.target = {
        text: `≥${READ_TARGET.minRatio * 100}% & p99<${READ_TARGET.maxP99Ms}ms`,
        pass: (row.ratio ?? 0) >= READ_TARGET.minRatio && row.p99 < READ_TARGET.maxP99Ms && row.non2xx === 0 && row.errors === 0,
      };
    }
    rows.push(row);
    if (b.value.unloaded) {
      raw[`read-1conn-${engine}`] = b.value.unloaded;
      rows.push(rowOf('connection-read', engine, 'GET connection, 1 conn (latency probe)', b.value.unloaded, null));
    }
    if (b.value.floor) {
      raw[`read-floor-${engine}`] = b.value.floor;
      const record = await measureHello(opts, 'connection-sized record', '/record');
      raw['hello-record'] = record;
      rows.push(rowOf('what-if', '-', 'bare Fastify, GET /record (same body size)', record, b.helloThroughput, undefined, b.helloCpuUsPerReq));
      rows.push(rowOf('what-if', engine, 'same read, 1 joined stmt, no Kysely/zod', b.value.floor, b.helloThroughput, undefined, b.helloCpuUsPerReq));
      if (b.value.hooksOnly) rows.push(rowOf('what-if', engine, 'same instance and hooks, no auth, no read', b.value.hooksOnly, b.helloThroughput, undefined, b.helloCpuUsPerReq));
    }
  }
  return { rows, raw };
}

async function main(): Promise<number> {
  const opts = await parseBenchOptions();
  const startedAt = new Date().toISOString();
  const { rows, raw } = await runConnectionRead(opts);
  const report: BenchReport = {
    bench: 'connection-read',
    startedAt,
    host: hostInfo(),
    settings: { engines: opts.engines, durationS: opts.durationS, warmupS: opts.warmupS, probeS: opts.probeS, connections: opts.connections, seed: opts.seed },
    rows,
    raw,
    notes: [
      ...opts.notes,
      'target applies to SQLite (PostgreSQL shown for information)',
    ],
  };
  emit(report, { json: opts.json, out: opts.out });
  const failed = rows.some((r) => r.target && !r.target.pass);
  return opts.strict && failed ? 1 : 0;
}

if (isMain(import.meta.url)) runMain(main);
