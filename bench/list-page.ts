/**
 * List-page benchmark: `GET /v1/connections?limit=50`, the first page and a deep keyset
 * page (cursors 80–99 % of the way through), at several table sizes, on SQLite and
 * PostgreSQL, against hello-world measured right before and after each engine's runs.
 * Also reports the server process's resident memory with the rows loaded.
 *
 *   node --import tsx bench/list-page.ts [--sizes 10k,100k] [--million] [--dist dist] [--engine sqlite|postgres|both]
 *        [--duration 10] [--warmup 2] [--connections 50] [--strict] [--json] [--out file.json]
 *
 * Rows are bulk-seeded directly through the store (bench/lib/bulk-seed.ts), spread over
 * 10 integrations of one tenant, each with two secret rows; the server runs in its own
 * child process (bench/lib/list-page-server.mjs) and is not the process that seeded: the
 * sources under tsx by default, or with `--dist DIR` a compiled build (`npm run build`)
 * under plain node — the resident memory a deployment sees.
 *
 * Targets (issue): page cost flat from 10k to 1M rows — here: server CPU per page at the
 * largest size ≤ 1.25 × the smallest (CPU per request is far steadier than req/s on a
 * shared host); and RSS under 200 MB with 1M connections (`--million`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeCursor } from '../src/domain/cursor.js';
import { openStore } from '../src/store/database.js';
import { authHeaders, call, connectionBody, createIntegration } from './lib/api.js';
import { seedConnections, seededUid } from './lib/bulk-seed.js';
import { bracketWithHello, helloRows } from './lib/hello.js';
import type { ListChildMessage, ListParentMessage } from './lib/list-page-protocol.js';
import { type LoadResult, runLoad } from './lib/load.js';
import { isMain, runMain } from './lib/main.js';
import { type BenchOptions, hostInfo, parseBenchOptions } from './lib/options.js';
import { createBenchSchema } from './lib/postgres.js';
import { type BenchReport, type BenchRow, emit, round, rowOf } from './lib/report.js';
import type { Engine, ServerHandle } from './lib/servers.js';
import { BENCH_ADMIN_KEY } from './lib/targets.js';

export const LIST_TARGET = { maxCostGrowth: 1.25, maxRssBytes: 200 * 1024 * 1024, rssAtRows: 1_000_000 } as const;
const INTEGRATIONS = 10;
const PAGE = 50;
const ENTRY = fileURLToPath(new URL('./lib/list-page-server.mjs', import.meta.url));
const SOURCES = fileURLToPath(new URL('../src', import.meta.url));

interface ListServer extends ServerHandle {
  rss(): Promise<{ rss: number; heapUsed: number; maxRss: number }>;
}

/**
 * Starts the serving process on a prepared database: the sources under tsx, or with
 * `dist` a compiled build under plain node (what a deployment runs).
 */
function spawnListServer(databaseUrl: string, dataDir: string, rootKey: string, dist: string | null): Promise<ListServer> {
  const child: ChildProcess = fork(ENTRY, [dist ?? SOURCES, databaseUrl, dataDir], {
    execArgv: [...(dist ? [] : ['--import', 'tsx']), '--expose-gc'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, LIST_BENCH_ROOT_KEY: rootKey, LIST_BENCH_ADMIN_KEY: BENCH_ADMIN_KEY },
  });
  const forward = (chunk: Buffer) => process.stderr.write(chunk.toString().replace(/^(?=.)/gm, '[list-server] '));
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ask = <T extends ListChildMessage['type']>(message: ListParentMessage, type: T) =>
    new Promise<Extract<ListChildMessage, { type: T }>>((resolve) => {
      const onMessage = (m: ListChildMessage) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve(m as Extract<ListChildMessage, { type: T }>);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('list server did not start within 60 s'))), 60_000);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`list server exited with code ${code} before it was ready`))));
    child.on('message', (m: ListChildMessage) => {
      if (m.type === 'error') (clearTimeout(timer), reject(new Error(`list server failed to start: ${m.message}`)));
      if (m.type !== 'ready') return;
      clearTimeout(timer);
      resolve({
        kind: 'latchkey',
        engine: null,
        url: m.url,
        adminKey: m.adminKey,
        pid: m.pid,
        cpuUsage: async () => {
          const r = await ask({ type: 'cpu' }, 'cpu');
          return { user: r.user, system: r.system };
        },
        rss: async () => {
          const r = await ask({ type: 'rss', gc: true }, 'rss');
          return { rss: r.rss, heapUsed: r.heapUsed, maxRss: r.maxRss };
        },
        profileStart: () => Promise.reject(new Error('not supported by the list bench server')),
        profileStop: () => Promise.reject(new Error('not supported by the list bench server')),
        async stop() {
          if (child.exitCode !== null) return;
          child.send({ type: 'stop' } satisfies ListParentMessage);
          const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/** A fresh SQLite directory or PostgreSQL schema, and how to remove it. */
async function freshStorage(engine: Engine): Promise<{ databaseUrl: string; dataDir: string; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-list-bench-'));
  const schema = engine === 'postgres' ? await createBenchSchema() : null;
  return {
    dataDir,
    databaseUrl: schema ? schema.url : join(dataDir, 'latchkey.db'),
    async drop() {
      if (schema) await schema.drop().catch((e: unknown) => process.stderr.write(`bench: dropping ${schema.schema} failed: ${(e as Error).message}\n`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SizeResult {
  engine: Engine;
  rows: number;
  seedSeconds: number;
  first: LoadResult;
  deep: LoadResult;
  rssIdle: number;
  rssAfter: number;
  heapAfter: number;
}

async function measureSize(engine: Engine, rows: number, opts: BenchOptions, dist: string | null): Promise<SizeResult> {
  const storage = await freshStorage(engine);
  const rootKey = randomBytes(32).toString('base64');
  let server: ListServer | null = null;
  try {
    server = await spawnListServer(storage.databaseUrl, storage.dataDir, rootKey, dist);
    const keys = Array.from({ length: INTEGRATIONS }, (_, i) => `bench-list-${i}`);
    for (const key of keys) await createIntegration(server, key);
    const template = await call(server, 'POST', `/v1/integrations/${keys[0]}/connections`, connectionBody('template'));
    if (template.status !== 201) throw new Error(`template connection: ${template.status} ${JSON.stringify(template.body)}`);

    const t0 = Date.now();
    const store = openStore({ url: storage.databaseUrl, poolSize: 2 });
    let seededT0: number;
    try {
      const integrations = await store.db.selectFrom('integrations').select(['uid', 'key']).where('key', 'in', keys).orderBy('key').execute();
      let lastReport = Date.now();
      ({ t0: seededT0 } = await seedConnections(store, {
        templateUid: template.body.uid,
        integrations,
        count: rows - 1,
        onProgress: (done) => {
          if (Date.now() - lastReport > 5_000) {
            lastReport = Date.now();
            process.stderr.write(`bench: ${engine}: seeded ${done} / ${rows - 1}…\n`);
          }
        },
      }));
    } finally {
      await store.close();
    }
    const seedSeconds = (Date.now() - t0) / 1000;
    process.stderr.write(`bench: ${engine}: seeded ${rows} connections in ${seedSeconds.toFixed(1)} s\n`);

    // Deep cursors: 100 positions spread over the last 20 % of the table.
    const seeded = rows - 1;
    const deepCursors = Array.from({ length: 100 }, (_, i) => encodeCursor(seededUid(seededT0, Math.floor(seeded * (0.8 + (0.19 * i) / 100)))));
    const firstPath = `/v1/connections?limit=${PAGE}`;
    const deepPaths = deepCursors.map((c) => `${firstPath}&cursor=${c}`);
    for (const path of [firstPath, deepPaths[0]!]) {
      const page = await call(server, 'GET', path);
      if (page.status !== 200 || page.body.data?.length !== PAGE || !page.body.nextCursor) throw new Error(`unexpected page for ${path}: ${page.status} ${JSON.stringify(page.body).slice(0, 300)}`);
      if (page.body.data[0].credentials?.hasSecrets?.accessToken !== true) throw new Error('seeded rows lack their secret names');
    }

    const rssIdle = (await server.rss()).rss;
    const headers = authHeaders(server);
    let next = 0;
    const first = [{ method: 'GET', path: firstPath, headers }];
    const deep = [{ method: 'GET', path: deepPaths[0]!, headers, setupRequest: (req: { path?: string }) => ({ ...req, path: deepPaths[next++ % deepPaths.length]! }) }];
    const load = (requests: typeof first, title: string) => {
      process.stderr.write(`bench: ${engine}: ${title} ${opts.durationS}s @ ${opts.connections} connections…\n`);
      return runLoad({ url: server!.url, requests, server: server!, connections: opts.connections, durationS: opts.durationS, title });
    };
    // Warm both pages up before measuring either, so the first measured run does not pay
    // for the JIT and the heap growing to its working size.
    for (const requests of opts.warmupS > 0 ? [first, deep] : []) await runLoad({ url: server.url, requests, connections: opts.connections, durationS: opts.warmupS, title: 'warm-up' });
    const firstResult = await load(first, `first page @ ${rows}`);
    const deepResult = await load(deep, `deep page @ ${rows}`);
    const after = await server.rss();
    return { engine, rows, seedSeconds, first: firstResult, deep: deepResult, rssIdle, rssAfter: after.rss, heapAfter: after.heapUsed };
  } finally {
    await server?.stop();
    await storage.drop();
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/** `10k,100k,1m` → numbers. */
function parseSizes(text: string): number[] {
  return text.split(',').map((part) => {
    const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(part.trim());
    if (!m) throw new Error(`--sizes: "${part}" is not a size like 10k, 100k or 1m`);
    const n = Math.round(Number(m[1]) * (m[2]!.toLowerCase() === 'm' ? 1e6 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1));
    if (n < PAGE * 3) throw new Error(`--sizes: ${part} is too small for a deep page of ${PAGE}`);
    return n;
  });
}

/** Splits this bench's own flags from the common ones (bench/lib/options.ts). */
function splitArgs(argv: string[]): { sizes: number[]; dist: string | null; rest: string[] } {
  let sizes = [10_000, 100_000];
  let million = false;
  let dist: string | null = null;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--million') million = true;
    else if (arg === '--dist') dist = resolve(argv[++i] ?? 'dist');
    else if (arg.startsWith('--dist=')) dist = resolve(arg.slice('--dist='.length));
    else if (arg === '--sizes') sizes = parseSizes(argv[++i] ?? '');
    else if (arg.startsWith('--sizes=')) sizes = parseSizes(arg.slice('--sizes='.length));
    else rest.push(arg);
  }
  if (million && !sizes.includes(1_000_000)) sizes.push(1_000_000);
  if (dist && !existsSync(join(dist, 'app.js'))) throw new Error(`--dist: ${dist}/app.js does not exist (npm run build first)`);
  return { sizes: [...new Set(sizes)].sort((a, b) => a - b), dist, rest };
}

async function main(): Promise<number> {
  const { sizes, dist, rest } = splitArgs(process.argv.slice(2));
  const opts = await parseBenchOptions(rest);
  const startedAt = new Date().toISOString();
  const rows: BenchRow[] = [];
  const raw: Record<string, LoadResult> = {};
  const results: SizeResult[] = [];
  const verdicts: string[] = [];
  let failed = false;
  for (const engine of opts.engines) {
    const b = await bracketWithHello(opts, `${engine} list`, async () => {
      const out: SizeResult[] = [];
      for (const size of sizes) out.push(await measureSize(engine, size, opts, dist));
      return out;
    });
    rows.push(...helloRows(b, `${engine} list`));
    raw[`hello-before-list-${engine}`] = b.before;
    raw[`hello-after-list-${engine}`] = b.after;
    for (const r of b.value) {
      results.push(r);
      raw[`list-first-${engine}-${r.rows}`] = r.first;
      raw[`list-deep-${engine}-${r.rows}`] = r.deep;
      rows.push(rowOf('list-page', engine, `first page @ ${label(r.rows)} rows`, r.first, b.helloThroughput, undefined, b.helloCpuUsPerReq));
      rows.push(rowOf('list-page', engine, `deep page @ ${label(r.rows)} rows`, r.deep, b.helloThroughput, undefined, b.helloCpuUsPerReq));
    }
    const smallest = b.value[0]!;
    const largest = b.value[b.value.length - 1]!;
    if (largest.rows > smallest.rows) {
      for (const which of ['first', 'deep'] as const) {
        const small = smallest[which].serverCpuUsPerRequest;
        const large = largest[which].serverCpuUsPerRequest;
        if (small === null || large === null) continue;
        const growth = large / small;
        const pass = growth <= LIST_TARGET.maxCostGrowth && largest[which].non2xx === 0 && largest[which].errors === 0;
        failed ||= !pass;
        verdicts.push(`${pass ? 'PASS' : 'FAIL'} ${engine} ${which} page: CPU per page ${small.toFixed(0)} µs @ ${label(smallest.rows)} → ${large.toFixed(0)} µs @ ${label(largest.rows)} (×${growth.toFixed(2)}, target ≤ ×${LIST_TARGET.maxCostGrowth}); p50 ${smallest[which].overall.p50.toFixed(2)} → ${largest[which].overall.p50.toFixed(2)} ms`);
      }
    }
    for (const r of b.value) {
      if (r.rows < LIST_TARGET.rssAtRows) continue;
      const pass = r.rssAfter < LIST_TARGET.maxRssBytes;
      failed ||= !pass;
      verdicts.push(`${pass ? 'PASS' : 'FAIL'} ${engine} RSS with ${label(r.rows)} connections: ${mb(r.rssAfter)} (target < ${mb(LIST_TARGET.maxRssBytes)})`);
    }
  }

  const memory = results.map((r) => `  ${r.engine.padEnd(8)} ${label(r.rows).padStart(5)} rows: seeded in ${r.seedSeconds.toFixed(1).padStart(6)} s; server RSS ${mb(r.rssIdle).padStart(7)} idle, ${mb(r.rssAfter).padStart(7)} after load (heap ${mb(r.heapAfter)})`);
  const report: BenchReport = {
    bench: 'list-page',
    startedAt,
    host: hostInfo(),
    settings: { engines: opts.engines, sizes, server: dist ? `compiled (${dist}), plain node` : 'sources under tsx', page: PAGE, integrations: INTEGRATIONS, durationS: opts.durationS, warmupS: opts.warmupS, connections: opts.connections },
    rows,
    raw,
    notes: [
      ...opts.notes,
      `resident memory of the server process (after a forced GC; ${dist ? `compiled build in ${dist} under plain node` : 'sources under tsx, which alone adds about 40 MB: --dist DIR measures a build'}):`,
      ...memory,
      ...verdicts,
      ...(sizes.includes(LIST_TARGET.rssAtRows) ? [] : ['RSS target applies at 1M rows: add --million']),
    ],
  };
  emit(report, { json: opts.json, out: opts.out });
  if (opts.json) process.stdout.write(`${JSON.stringify(results.map((r) => ({ engine: r.engine, rows: r.rows, seedSeconds: round(r.seedSeconds, 1), rssIdle: r.rssIdle, rssAfter: r.rssAfter })))}\n`);
  return opts.strict && failed ? 1 : 0;
}

if (isMain(import.meta.url)) runMain(main);
