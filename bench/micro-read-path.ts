/**
 * In-process micro-benchmark of the connection read path, stage by stage, on a seeded
 * SQLite Latchkey (no sockets, no load generator): where do the ~hundreds of µs of CPU
 * per `GET /v1/integrations/{key}/connections/{id}` go?
 *
 *   node --import tsx bench/micro-read-path.ts [--seed 1000] [--iterations 20000]
 *
 * Stages are timed in isolation (sequentially, one at a time), so they show the cost of
 * each piece, not queueing. Figures are CPU µs (user+sys of this process) per operation,
 * median of 5 rounds. BENCH_EXPERIMENTS (bench/lib/experiments.ts) applies here too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SqliteDatabase from 'better-sqlite3';
import { createLatchkey } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { GetConnection } from '../src/contracts/integrations/connection-contracts.js';
import { ConnectionRecord } from '../src/contracts/integrations/records.js';
import { hashApiKey } from '../src/crypto/api-key-token.js';
import { Authenticator } from '../src/domain/access/authenticator.js';
import { toConnectionRecord } from '../src/domain/connections/connection-rows.js';
import { connectionBody, integrationBody } from './lib/api.js';
import { applyExperiments, experimentsFromEnv } from './lib/experiments.js';
import { isMain, runMain } from './lib/main.js';
import { BENCH_ADMIN_KEY } from './lib/targets.js';

interface Stage {
  name: string;
  us: number;
}

async function time(name: string, iterations: number, fn: () => unknown | Promise<unknown>, stages: Stage[]): Promise<void> {
  const rounds: number[] = [];
  for (let i = 0; i < Math.min(2000, iterations); i++) await fn(); // warm-up / JIT
  for (let r = 0; r < 5; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) await fn();
    const d = process.cpuUsage(t0);
    rounds.push((d.user + d.system) / iterations);
  }
  rounds.sort((a, b) => a - b);
  stages.push({ name, us: rounds[2]! });
  process.stderr.write(`  ${rounds[2]!.toFixed(2).padStart(9)} µs  ${name}\n`);
}

/** The same statement run with a sync function: `await` would add a microtask hop, which is part of the stage only where the real code has it. */
async function timeSync(name: string, iterations: number, fn: () => unknown, stages: Stage[]): Promise<void> {
  const rounds: number[] = [];
  for (let i = 0; i < Math.min(2000, iterations); i++) fn();
  for (let r = 0; r < 5; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn();
    const d = process.cpuUsage(t0);
    rounds.push((d.user + d.system) / iterations);
  }
  rounds.sort((a, b) => a - b);
  stages.push({ name, us: rounds[2]! });
  process.stderr.write(`  ${rounds[2]!.toFixed(2).padStart(9)} µs  ${name}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '1000' }, iterations: { type: 'string', default: '20000' } } });
  const experiments = experimentsFromEnv();
  if (experiments.length > 0) {
    applyExperiments(experiments);
    process.stderr.write(`experiments on: ${experiments.join(', ')}\n`);
  }
  const n = Number(values.seed);
  const iters = Number(values.iterations);
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-micro-'));
  const dbFile = join(dataDir, 'latchkey.db');
  const config = loadConfig({}, { dataDir, databaseUrl: dbFile, bootstrapKey: BENCH_ADMIN_KEY, logLevel: 'warn', rateLimitPerSecond: 0, rootKey: Buffer.alloc(32, 7).toString('base64') });
  const lk = await createLatchkey(config);
  const stages: Stage[] = [];
  try {
    await lk.app.ready();
    const auth = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const r0 = await lk.app.inject({ method: 'POST', url: '/v1/integrations', headers: json, payload: JSON.stringify(integrationBody('bench-read')) });
    if (r0.statusCode !== 201) throw new Error(r0.body);
    const ids = Array.from({ length: n }, (_, i) => `conn-${String(i).padStart(6, '0')}`);
    for (const id of ids) {
      const r = await lk.app.inject({ method: 'POST', url: '/v1/integrations/bench-read/connections', headers: json, payload: JSON.stringify(connectionBody(id)) });
      if (r.statusCode !== 201) throw new Error(r.body);
    }
    let k = 0;
    const nextId = () => ids[k++ % ids.length]!;
    const db = lk.services.store.db;
    const authenticator = new Authenticator(lk.services.store);
    const principal = (await authenticator.authenticate(BENCH_ADMIN_KEY))!;
    const integration = await db.selectFrom('integrations').selectAll().where('tenant_id', '=', principal.tenantId).where('key', '=', 'bench-read').executeTakeFirstOrThrow();
    const someRow = await db.selectFrom('connections').selectAll().where('integration_uid', '=', integration.uid).where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    const record = toConnectionRecord(someRow, new Set(['accessToken', 'refreshToken']), lk.services.catalog, new Date());

    process.stderr.write(`\nstages (CPU µs per operation, ${iters} iterations, median of 5 rounds; ${n} connections seeded):\n`);
    process.stderr.write('whole request\n');
    await time('app.inject GET connection (Fastify pipeline via light-my-request: inject itself is costly)', Math.floor(iters / 4), async () => {
      const r = await lk.app.inject({ method: 'GET', url: `/v1/integrations/bench-read/connections/${nextId()}`, headers: auth });
      if (r.statusCode !== 200) throw new Error(r.body);
    }, stages);
    await time('registry.execute(integrations.connection.get)', Math.floor(iters / 4), () =>
      lk.registry.execute('integrations.connection.get', { key: 'bench-read', id: nextId() }, { principal, requestId: 'r', ip: '127.0.0.1', surface: 'http' }), stages);

    process.stderr.write('authentication\n');
    await timeSync('hashApiKey (sha256 hex of the bearer key)', iters, () => hashApiKey(BENCH_ADMIN_KEY), stages);
    await time('Authenticator.authenticate, cache hit', iters, () => authenticator.authenticate(BENCH_ADMIN_KEY), stages);

    process.stderr.write('validation and mapping\n');
    await timeSync('zod: GetConnection input safeParse', iters, () => GetConnection.io.input.safeParse({ key: 'bench-read', id: 'conn-000001' }), stages);
    await timeSync('zod: ConnectionRecord output safeParse', iters, () => ConnectionRecord.safeParse(record), stages);
    await timeSync('toConnectionRecord (row → record, 4× JSON.parse)', iters, () => toConnectionRecord(someRow, new Set(['accessToken', 'refreshToken']), lk.services.catalog, new Date()), stages);
    await timeSync('JSON.stringify(record)', iters, () => JSON.stringify(record), stages);

    process.stderr.write('queries through Kysely (the 3 queries of the read path)\n');
    const qIntegration = () => db.selectFrom('integrations').selectAll().where('tenant_id', '=', principal.tenantId).where('key', '=', 'bench-read');
    const qConnection = (id: string) => db.selectFrom('connections').selectAll().where('integration_uid', '=', integration.uid).where('id', '=', id);
    const qSecrets = (uid: string) => db.selectFrom('secrets').select('field').where('owner_uid', '=', uid);
    await timeSync('Kysely build+compile: integration query', iters, () => qIntegration().compile(), stages);
    await timeSync('Kysely build+compile: connection query', iters, () => qConnection(nextId()).compile(), stages);
    await timeSync('Kysely build+compile: secrets query', iters, () => qSecrets(someRow.uid).compile(), stages);
    await time('Kysely executeTakeFirst: integration query', iters, () => qIntegration().executeTakeFirst(), stages);
    await time('Kysely executeTakeFirst: connection query', iters, () => qConnection(nextId()).executeTakeFirst(), stages);
    await time('Kysely execute: secrets query', iters, () => qSecrets(someRow.uid).execute(), stages);

    if (experiments.includes('exclusive-lock')) {
      process.stderr.write('(raw better-sqlite3 stages skipped: exclusive-lock keeps other handles out)\n');
      return 0;
    }
    process.stderr.write('the same SQL on a second better-sqlite3 handle (same file, same pragmas)\n');
    const raw = new SqliteDatabase(dbFile);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    const c1 = qIntegration().compile();
    const c2 = qConnection(ids[0]!).compile();
    const c3 = qSecrets(someRow.uid).compile();
    const p1 = raw.prepare(c1.sql);
    const p2 = raw.prepare(c2.sql);
    const p3 = raw.prepare(c3.sql);
    const joined = raw.prepare(
      `select c.*, i.scope as i_scope, i.workspace_id as i_workspace_id, i.owner_user_id as i_owner_user_id,
              (select group_concat(s.field) from secrets s where s.owner_uid = c.uid) as secret_names
         from integrations i join connections c on c.integration_uid = i.uid
        where i.tenant_id = ? and i.key = ? and c.id = ?`,
    );
    await timeSync('prepare() only: connection query (Kysely prepares on every call)', iters, () => raw.prepare(c2.sql), stages);
    await timeSync('prepare()+all(): connection query (what Kysely does)', iters, () => raw.prepare(c2.sql).all([integration.uid, nextId()]), stages);
    await timeSync('cached statement .all(): connection query', iters, () => p2.all([integration.uid, nextId()]), stages);
    await timeSync('cached statements: all 3 queries', iters, () => {
      p1.all(c1.parameters as unknown[]);
      p2.all([integration.uid, nextId()]);
      p3.all(c3.parameters as unknown[]);
    }, stages);
    await timeSync('cached statements: all 3 queries in one BEGIN…COMMIT', iters, () => {
      raw.exec('begin');
      p1.all(c1.parameters as unknown[]);
      p2.all([integration.uid, nextId()]);
      p3.all(c3.parameters as unknown[]);
      raw.exec('commit');
    }, stages);
    await timeSync('cached statement: one joined query (integration ⋈ connection + secrets subquery)', iters, () => joined.all([principal.tenantId, 'bench-read', nextId()]), stages);
    raw.close();
    process.stderr.write('\n');
    process.stdout.write(`${JSON.stringify({ seed: n, iterations: iters, stages }, null, 2)}\n`);
    return 0;
  } finally {
    await lk.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runMain(main);
