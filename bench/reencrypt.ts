/**
 * Re-encryption benchmark (`latchkey keys reencrypt`).
 *
 *   node --import tsx bench/reencrypt.ts [--records 100000] [--engine sqlite|postgres|both]
 *        [--batch-size 1000] [--duration 10] [--max-rate N] [--no-reads] [--json] [--out file.json]
 *
 * 1. Throughput: N secrets (default 100k; try --records 1000000) seeded straight into the
 *    database, then re-encrypted under fresh data keys in this process. Target on SQLite:
 *    ≥ 50,000 records/s.
 * 2. Reads during re-encryption: a server (`latchkey serve`, its own process) answers
 *    `GET /v1/integrations/{key}/connections/{id}` to autocannon (bench/lib/load.ts); first
 *    alone, then while `latchkey keys reencrypt` (a third process, looping over the same
 *    data) runs against the same database. Target: reads keep ≥ 50 % of their throughput.
 *
 * Prints PASS/FAIL per target; exits non-zero on FAIL only with --strict.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createLatchkey } from '../src/app.js';
import { type LatchkeyConfig, loadConfig } from '../src/config.js';
import type { Keyring } from '../src/crypto/keyring.js';
import { openOfflineSession } from '../src/keys/offline-session.js';
import { reencryptAll } from '../src/keys/reencryption.js';
import type { Store } from '../src/store/database.js';
import { formatSummary, summarizeProfile } from './lib/cpuprofile.js';
import { measureHello } from './lib/hello.js';
import { type LoadResult, runLoad } from './lib/load.js';
import { isMain, runMain } from './lib/main.js';
import { createBenchSchema, postgresReachable } from './lib/postgres.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src/cli/main.ts');
const ADMIN_KEY = 'bench-bootstrap-admin-key-0123456789abcdef';
const READ_KEY = 'bench-read';
const READ_CONNECTIONS = 500;
export const TARGETS = { sqliteRecordsPerSecond: 50_000, readShare: 0.5 } as const;

interface Options {
  records: number;
  engines: Array<'sqlite' | 'postgres'>;
  batchSize: number;
  durationS: number;
  maxRate: number | undefined;
  reads: boolean;
  strict: boolean;
  json: boolean;
  out: string | undefined;
}

async function options(): Promise<Options> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      engine: { type: 'string' },
      'batch-size': { type: 'string' },
      duration: { type: 'string' },
      'max-rate': { type: 'string' },
      'no-reads': { type: 'boolean' },
      strict: { type: 'boolean' },
      json: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const wanted = values.engine ?? 'auto';
  const pg = wanted === 'sqlite' ? false : await postgresReachable();
  if ((wanted === 'postgres' || wanted === 'both') && !pg) throw new Error('PostgreSQL is not reachable');
  return {
    records: Number(values.records ?? 100_000),
    engines: wanted === 'sqlite' ? ['sqlite'] : wanted === 'postgres' ? ['postgres'] : pg ? ['sqlite', 'postgres'] : ['sqlite'],
    batchSize: Number(values['batch-size'] ?? 1000),
    durationS: Number(values.duration ?? 10),
    maxRate: values['max-rate'] ? Number(values['max-rate']) : undefined,
    reads: !values['no-reads'],
    strict: values.strict === true,
    json: values.json === true,
    out: values.out,
  };
}

/** Encrypts and inserts `records` secrets of the default tenant in big transactions (much faster than the API). */
async function seedSecrets(store: Store, keyring: Keyring, records: number): Promise<void> {
  const chunk = store.engine === 'sqlite' ? 5000 : 1000;
  const now = new Date().toISOString();
  for (let start = 0; start < records; start += chunk) {
    const n = Math.min(chunk, records - start);
    await store.db.transaction().execute(async (trx) => {
      const items = Array.from({ length: n }, (_, i) => {
        const uid = `con_bench${String(start + i).padStart(10, '0')}`;
        return { ref: { tenantId: 'default', kind: 'connection' as const, uid, field: 'apiKey' }, plaintext: `sk_live_${randomBytes(18).toString('base64url')}` };
      });
      const sealed = await keyring.encryptMany(trx, 'default', items);
      const rows = items.map((item, i) => ({
        owner_uid: item.ref.uid,
        field: 'apiKey',
        tenant_id: 'default',
        owner_kind: 'connection',
        key_version: sealed[i]!.keyVersion,
        ciphertext: sealed[i]!.ciphertext,
        updated_at: now,
      }));
      // Multi-row inserts, under SQLite's and PostgreSQL's bound-parameter limits.
      for (let i = 0; i < rows.length; i += 500) await trx.insertInto('secrets').values(rows.slice(i, i + 500)).execute();
    });
  }
}

interface Prepared {
  config: LatchkeyConfig;
  cleanup(): Promise<void>;
}

/** A data directory (SQLite) or schema (PostgreSQL) with the default tenant, 500 readable connections and N secrets. */
async function prepare(engine: 'sqlite' | 'postgres', records: number): Promise<Prepared> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-reencrypt-'));
  const schema = engine === 'postgres' ? await createBenchSchema() : null;
  const config = loadConfig(
    {},
    {
      dataDir,
      databaseUrl: schema ? schema.url : join(dataDir, 'latchkey.db'),
      rootKey: randomBytes(32).toString('base64'),
      bootstrapKey: ADMIN_KEY,
      logLevel: 'warn',
      rateLimitPerSecond: 0,
      host: '127.0.0.1',
      port: 0,
    },
  );
  const lk = await createLatchkey(config);
  try {
    const inject = (method: 'POST', url: string, payload: unknown) =>
      lk.app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => {
        if (r.statusCode !== 201) throw new Error(`seed ${url}: ${r.statusCode} ${r.body}`);
      });
    await inject('POST', '/v1/integrations', { key: READ_KEY, provider: 'github', displayName: 'Bench', authMethod: 'oauth2', config: { clientId: 'Iv1.bench' }, secrets: { clientSecret: 'bench-secret' } });
    for (let i = 0; i < READ_CONNECTIONS; i++) {
      await inject('POST', `/v1/integrations/${READ_KEY}/connections`, { id: `conn-${i}`, credentials: { type: 'oauth2', accessToken: `gho_${i}`, refreshToken: `ghr_${i}` } });
    }
    const t0 = Date.now();
    await seedSecrets(lk.services.store, lk.services.keyring, records);
    process.stderr.write(`bench: ${engine}: seeded ${records.toLocaleString('en-US')} secrets in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    if (engine === 'postgres') await sql`analyze secrets`.execute(lk.services.store.db);
  } finally {
    await lk.close();
  }
  return {
    config,
    async cleanup() {
      if (schema) await schema.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Re-encrypts everything once in this process. Returns records/s, and the CPU time this
 * process spent per record: on a shared, busy host the wall-clock rate says more about the
 * neighbours than about us, while 1e6 ÷ CPU µs/record is the rate one free core would give.
 */
async function measureThroughput(config: LatchkeyConfig, batchSize: number): Promise<{ rows: number; seconds: number; perSecond: number; cpuUsPerRecord: number; perCpuSecond: number }> {
  const session = await openOfflineSession(config, () => undefined);
  try {
    const profiler = process.env.BENCH_CPU_PROFILE ? await startMainThreadProfile() : null;
    const cpu = process.cpuUsage();
    const result = await reencryptAll(session.store, session.keyring, { batchSize, audit: session.audit });
    const used = process.cpuUsage(cpu);
    if (profiler) await profiler.stop(process.env.BENCH_CPU_PROFILE!, result.processed);
    const cpuUsPerRecord = (used.user + used.system) / result.processed;
    return {
      rows: result.processed,
      seconds: result.seconds,
      perSecond: Math.round(result.processed / result.seconds),
      cpuUsPerRecord: Math.round(cpuUsPerRecord * 10) / 10,
      perCpuSecond: Math.round(1e6 / cpuUsPerRecord),
    };
  } finally {
    await session.close();
  }
}

/** BENCH_CPU_PROFILE=FILE: a V8 CPU profile of this (the main) thread during the run, summarised per record. */
async function startMainThreadProfile(): Promise<{ stop(file: string, records: number): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file, records) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
      process.stderr.write(`${formatSummary(summarizeProfile(file, records, 25))}\n`);
    },
  };
}

const envOf = (config: LatchkeyConfig): NodeJS.ProcessEnv => ({
  ...process.env,
  LATCHKEY_DATA_DIR: config.dataDir,
  LATCHKEY_DATABASE_URL: config.databaseUrl,
  LATCHKEY_ROOT_KEY: config.rootKey!,
  LATCHKEY_LOG_LEVEL: 'warn',
  LATCHKEY_RATE_LIMIT: '0',
  LATCHKEY_PORT: '0',
});

/** `latchkey serve` in its own process; resolves with its URL. */
function startServer(config: LatchkeyConfig): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], { env: envOf(config), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const match = /listens on (http:\/\/[^\s,]+)|is running at (http:\/\/\S+)/.exec(out);
      if (match) resolvePromise({ url: (match[1] ?? match[2])!, child });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
  });
}

/** Runs `latchkey keys reencrypt` again and again until stopped; `started` resolves at its first progress report. */
function reencryptLoop(config: LatchkeyConfig, batchSize: number, maxRate: number | undefined): { started: Promise<void>; stop(): Promise<number> } {
  let stopped = false;
  let rows = 0;
  let current: ChildProcess | null = null;
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const once = () =>
    new Promise<void>((done) => {
      const args = ['--import', 'tsx', CLI, 'keys', 'reencrypt', '--json', '--batch-size', String(batchSize), ...(maxRate ? ['--max-rate', String(maxRate)] : [])];
      current = spawn(process.execPath, args, { env: envOf(config), stdio: ['ignore', 'pipe', 'inherit'] });
      let buffer = '';
      let processed = 0;
      let at = 0;
      current.stdout!.on('data', (c: Buffer) => {
        buffer += c.toString('utf8');
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          try {
            const event = JSON.parse(line) as { processed?: number; phase?: string };
            if (event.phase === 'records' && event.processed !== undefined && event.processed > at) {
              if (at === 0) markStarted();
              processed = event.processed;
            }
            at = Math.max(at, event.processed ?? 0);
          } catch {
            // not a progress line
          }
        }
      });
      current.on('exit', () => {
        rows += processed;
        done();
      });
    });
  const loop = (async () => {
    while (!stopped) await once();
  })();
  return {
    started,
    async stop() {
      stopped = true;
      (current as ChildProcess | null)?.kill('SIGINT');
      await loop;
      return rows;
    },
  };
}

async function measureReads(config: LatchkeyConfig, opts: Options): Promise<{ alone: LoadResult; during: LoadResult; rowsDuring: number }> {
  const { url, child } = await startServer(config);
  try {
    let next = 0;
    const requests = [
      {
        method: 'GET',
        path: `/v1/integrations/${READ_KEY}/connections/conn-0`,
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        setupRequest: (req: { path?: string }) => ({ ...req, path: `/v1/integrations/${READ_KEY}/connections/conn-${next++ % READ_CONNECTIONS}` }),
      },
    ];
    await runLoad({ url, requests, connections: 50, durationS: 2, title: 'warm-up' });
    const alone = await runLoad({ url, requests, connections: 50, durationS: opts.durationS, title: 'reads alone' });
    const loop = reencryptLoop(config, opts.batchSize, opts.maxRate);
    // Measure once the re-encryption is past its start-up and writing batches.
    await loop.started;
    const during = await runLoad({ url, requests, connections: 50, durationS: opts.durationS, title: 'reads during re-encryption' });
    const rowsDuring = await loop.stop();
    return { alone, during, rowsDuring };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<number> {
  const opts = await options();
  const lines: string[] = [];
  const results: Record<string, unknown> = {};
  let failed = false;
  const record = (text: string) => {
    lines.push(text);
    process.stderr.write(`bench: ${text}\n`);
  };
  record(`host: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
  for (const engine of opts.engines) {
    const prepared = await prepare(engine, opts.records);
    try {
      const t = await measureThroughput(prepared.config, opts.batchSize);
      const pass = engine !== 'sqlite' || t.perSecond >= TARGETS.sqliteRecordsPerSecond;
      if (!pass) failed = true;
      record(
        `${engine}: re-encrypted ${t.rows.toLocaleString('en-US')} records in ${t.seconds.toFixed(2)} s = ${t.perSecond.toLocaleString('en-US')} records/s ` +
          `(${t.cpuUsPerRecord} CPU µs/record = ${t.perCpuSecond.toLocaleString('en-US')} records per CPU-second)` +
          (engine === 'sqlite' ? `  [target ≥ ${TARGETS.sqliteRecordsPerSecond.toLocaleString('en-US')}/s: ${pass ? 'PASS' : 'FAIL'}]` : ''),
      );
      results[`${engine}-throughput`] = t;
      if (opts.reads) {
        const r = await measureReads(prepared.config, opts);
        // The same-run baseline every bench prints: bare Fastify hello-world, 50 connections.
        const hello = await measureHello({ connections: 50, durationS: opts.durationS, warmupS: 2 }, `after ${engine} re-encryption`);
        const share = r.during.throughput / r.alone.throughput;
        const readPass = share >= TARGETS.readShare && r.during.errors === 0 && r.during.non2xx === 0;
        if (!readPass) failed = true;
        const ofHello = (t: number) => `${((100 * t) / hello.throughput).toFixed(1)} % of hello-world`;
        record(
          `${engine}: reads alone ${Math.round(r.alone.throughput)} req/s (p50 ${r.alone.overall.p50.toFixed(1)} ms, p99 ${r.alone.overall.p99.toFixed(1)} ms, ${ofHello(r.alone.throughput)}); during re-encryption ` +
            `${Math.round(r.during.throughput)} req/s (p50 ${r.during.overall.p50.toFixed(1)} ms, p99 ${r.during.overall.p99.toFixed(1)} ms, ${ofHello(r.during.throughput)}, ${r.during.non2xx} non-2xx) = ${(share * 100).toFixed(0)} %; ` +
            `${r.rowsDuring.toLocaleString('en-US')} records re-encrypted meanwhile  [target ≥ ${TARGETS.readShare * 100} %: ${readPass ? 'PASS' : 'FAIL'}]`,
        );
        results[`${engine}-reads`] = { alone: r.alone.throughput, during: r.during.throughput, hello: hello.throughput, share, rowsDuring: r.rowsDuring, p50Alone: r.alone.overall.p50, p99Alone: r.alone.overall.p99, p50During: r.during.overall.p50, p99During: r.during.overall.p99 };
      }
    } finally {
      await prepared.cleanup();
    }
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (opts.json || opts.out) {
    const report = JSON.stringify({ bench: 'reencrypt', settings: opts, results }, null, 2);
    if (opts.json) process.stdout.write(`${report}\n`);
    if (opts.out) (await import('node:fs')).writeFileSync(opts.out, `${report}\n`);
  }
  return opts.strict && failed ? 1 : 0;
}

if (isMain(import.meta.url)) runMain(main);
