import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import { type Keyring, secretAadText } from '../crypto/keyring.js';
import { newId } from '../ids.js';
import type { Store } from '../store/database.js';
import type { Database, KeyJobTable } from '../store/schema.js';
import { CIPHERTEXT_SOURCES, type CiphertextSource, type CiphertextUpdate, type StoredCiphertext } from './ciphertext-sources.js';
import { ResealFailure, resealWorker } from './reseal-worker.js';
import { type RetiredVersion, retireUnreferencedDataKeys } from './retirement.js';
import { auditKeyEvent } from './system-audit.js';

export interface ReencryptProgress {
  jobId: string;
  phase: 'records' | 'sweep' | 'retire' | 'done';
  /** Rows looked at so far (of every run of the job). */
  processed: number;
  /** Rows the job had to look at when it started. */
  total: number;
  /** Rows this run re-encrypted. */
  reencrypted: number;
  /** Rows per second over this run. */
  ratePerSecond: number;
  /** Seconds left at that rate, or null before there is a rate. */
  etaSeconds: number | null;
}

export interface ReencryptOptions {
  /** Rows per transaction (default 1000): small enough to keep the write lock short. */
  batchSize?: number;
  /** Upper bound on rows per second, to leave the database to live traffic (default: none). */
  maxRowsPerSecond?: number;
  onProgress?: (progress: ReencryptProgress) => void;
  /** Stops after the current batch; the job stays resumable. */
  signal?: AbortSignal;
  /** Audit log for the system events of the job (data-key rotation and retirement). */
  audit?: AuditLog;
  /** Retire the superseded versions nothing references at the end (default true). */
  retire?: boolean;
  clock?: () => Date;
}

export interface ReencryptResult {
  jobId: string;
  /** True when this run continued a job an earlier run had started. */
  resumed: boolean;
  /** False when stopped by the signal before the end. */
  completed: boolean;
  /** The data-key version each tenant's ciphertexts now use (at least). */
  targets: Record<string, number>;
  processed: number;
  reencrypted: number;
  retired: RetiredVersion[];
  seconds: number;
}

interface Cursor {
  source: number;
  key: string[] | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a job: every tenant gets a fresh data key (the target), in one transaction with the job row. */
async function startJob(db: Kysely<Database>, keyring: Keyring, now: Date, audit?: AuditLog): Promise<KeyJobTable> {
  return db.transaction().execute(async (trx) => {
    const tenants = await trx.selectFrom('data_keys').select('tenant_id').distinct().where('retired_at', 'is', null).orderBy('tenant_id').execute();
    const targets: Record<string, number> = {};
    for (const { tenant_id } of tenants) {
      targets[tenant_id] = await keyring.rotateTenantKey(trx, tenant_id, now.toISOString());
      await auditKeyEvent(trx, audit, {
        tenantId: tenant_id,
        at: now,
        action: 'keys.dataKey.rotate',
        resource: { type: 'data_key', id: `${tenant_id}:v${targets[tenant_id]}` },
        changes: { fields: ['dataKeyVersion'], secretsChanged: [] },
      });
    }
    let total = 0;
    for (const source of CIPHERTEXT_SOURCES) total += await source.total(trx);
    const job: KeyJobTable = {
      id: newId('kjob', now.getTime()),
      kind: 'reencrypt',
      state: 'running',
      targets: JSON.stringify(targets),
      cursor: JSON.stringify({ source: 0, key: null } satisfies Cursor),
      processed: 0,
      total,
      started_at: now.toISOString(),
      updated_at: now.toISOString(),
      finished_at: null,
    };
    await trx.insertInto('key_jobs').values(job).execute();
    return job;
  });
}

/** A batch whose resealing runs on the worker, per tenant, waiting to be stored. */
interface ResealingBatch {
  source: CiphertextSource;
  rows: StoredCiphertext[];
  next: Cursor;
  tenants: Array<{ tenantId: string; version: number; items: StoredCiphertext[]; sealed: Promise<string[]> }>;
}

/** Reads the keys each tenant of the batch needs (cached) and hands the batch to the worker. */
async function startResealing(
  db: Kysely<Database>,
  keyring: Keyring,
  worker: ReturnType<typeof resealWorker>,
  source: CiphertextSource,
  rows: StoredCiphertext[],
  targets: Record<string, number>,
  next: Cursor,
): Promise<ResealingBatch> {
  const byTenant = new Map<string, StoredCiphertext[]>();
  // A value that is not a keyring envelope is not ours to re-encrypt.
  for (const row of rows) {
    if (targets[row.tenantId] === undefined || row.version === null || row.version >= targets[row.tenantId]!) continue;
    const list = byTenant.get(row.tenantId) ?? [];
    list.push(row);
    byTenant.set(row.tenantId, list);
  }
  const tenants: ResealingBatch['tenants'] = [];
  for (const [tenantId, items] of byTenant) {
    const { current, byVersion } = await keyring.sealingKeys(db, tenantId);
    // Exact copies: a pooled Buffer would drag its whole 8 KiB slab across to the worker.
    const keys = new Map<number, Uint8Array>();
    for (const v of new Set([current, ...items.map((i) => i.version!)])) {
      const key = byVersion.get(v);
      if (key) keys.set(v, Uint8Array.from(key));
    }
    const missing = items.find((i) => !keys.has(i.version!));
    const sealed = missing
      ? Promise.reject(new Error(`data key version ${missing.version} of tenant ${tenantId} is missing or retired`))
      : worker.reseal({ keys, toVersion: current, items: items.map((i) => ({ aad: secretAadText(i.ref), version: i.version!, body: i.ciphertext.slice(i.ciphertext.lastIndexOf('.') + 1) })) });
    sealed.catch(() => undefined); // handled when the batch is stored
    tenants.push({ tenantId, version: current, items, sealed });
  }
  return { source, rows, next, tenants };
}

/**
 * Stores a resealed batch: in one transaction, counts the uses of each tenant's key (if a
 * rotation superseded the version the worker used, that tenant's part is resealed again
 * here under the new one), writes each value back only if its row is unchanged, and moves
 * the job's cursor.
 */
async function commitResealed(db: Kysely<Database>, keyring: Keyring, batch: ResealingBatch, job: { id: string; now: Date }, sqlite?: SqliteDatabase.Database): Promise<number> {
  const results: string[][] = [];
  for (const t of batch.tenants) {
    try {
      results.push(await t.sealed);
    } catch (error) {
      const item = error instanceof ResealFailure ? t.items[error.index] : undefined;
      const what = item ? `${batch.source.name} ${item.key.join('/')} of tenant ${t.tenantId} does not decrypt (tampered, or moved from another record)` : (error as Error).message;
      throw new Error(`re-encryption of ${batch.source.name} stopped: ${what}`);
    }
  }
  return db.transaction().execute(async (trx) => {
    const updates: CiphertextUpdate[] = [];
    for (const [i, t] of batch.tenants.entries()) {
      if (await keyring.countUses(trx, t.tenantId, t.version, t.items.length)) {
        t.items.forEach((item, j) => updates.push({ key: item.key, old: item.ciphertext, ciphertext: results[i]![j]!, version: t.version }));
      } else {
        const sealed = await keyring.reencryptMany(trx, t.tenantId, t.items);
        t.items.forEach((item, j) => updates.push({ key: item.key, old: item.ciphertext, ciphertext: sealed[j]!.ciphertext, version: sealed[j]!.keyVersion }));
      }
    }
    const changed = await batch.source.update(trx, updates, sqlite);
    await trx
      .updateTable('key_jobs')
      .set((eb) => ({ processed: eb('processed', '+', batch.rows.length), updated_at: job.now.toISOString(), cursor: JSON.stringify(batch.next) }))
      .where('id', '=', job.id)
      .execute();
    return changed;
  });
}

/** The unfinished re-encryption job, if a run stopped before the end. */
export async function runningReencryption(db: Kysely<Database>): Promise<KeyJobTable | null> {
  return (await db.selectFrom('key_jobs').selectAll().where('kind', '=', 'reencrypt').where('state', '=', 'running').orderBy('started_at').limit(1).executeTakeFirst()) ?? null;
}

/**
 * Re-encrypts one batch in one transaction: counts the uses of the new keys, opens and
 * reseals each value (in memory, on cached keys), writes it back only if its row still
 * holds the ciphertext read (a concurrent write wins, and is already under a current key)
 * and moves the job's cursor — so a crash at any point leaves either the whole batch and
 * its cursor, or neither.
 */
async function reencryptBatch(
  db: Kysely<Database>,
  keyring: Keyring,
  source: CiphertextSource,
  rows: StoredCiphertext[],
  targets: Record<string, number>,
  job: { id: string; cursor: Cursor | null; processedDelta: number; now: Date },
  sqlite?: SqliteDatabase.Database,
): Promise<number> {
  // A value that is not a keyring envelope is not ours to re-encrypt.
  const stale = rows.filter((r) => targets[r.tenantId] !== undefined && r.version !== null && r.version < targets[r.tenantId]!);
  const byTenant = new Map<string, StoredCiphertext[]>();
  for (const row of stale) {
    const list = byTenant.get(row.tenantId) ?? [];
    list.push(row);
    byTenant.set(row.tenantId, list);
  }
  return db.transaction().execute(async (trx) => {
    const updates: CiphertextUpdate[] = [];
    for (const [tenantId, items] of byTenant) {
      let sealed: Array<{ ciphertext: string; keyVersion: number }>;
      try {
        sealed = await keyring.reencryptMany(trx, tenantId, items);
      } catch (error) {
        throw new Error(`re-encryption of ${source.name} stopped: ${(error as Error).message}`);
      }
      items.forEach((item, i) => updates.push({ key: item.key, old: item.ciphertext, ciphertext: sealed[i]!.ciphertext, version: sealed[i]!.keyVersion }));
    }
    const changed = await source.update(trx, updates, sqlite);
    let move = trx
      .updateTable('key_jobs')
      .set((eb) => ({ processed: eb('processed', '+', job.processedDelta), updated_at: job.now.toISOString() }))
      .where('id', '=', job.id);
    if (job.cursor) move = move.set({ cursor: JSON.stringify(job.cursor) });
    await move.execute();
    return changed;
  });
}

/**
 * `latchkey keys reencrypt`: re-encrypts every stored ciphertext under fresh data keys,
 * online. A job rotates every tenant's data key (the targets), then walks each
 * {@link CIPHERTEXT_SOURCES} table in key order, batch by batch, each batch with its
 * cursor in one transaction. It is
 *
 * - **resumable**: a run killed at any point is continued by the next from the last
 *   committed batch (`key_jobs`), without rotating again;
 * - **idempotent**: rows already under their target version are skipped;
 * - **online**: writes keep working — a value changed while its batch was in flight wins
 *   (compare-and-set), and is already sealed under a current key, because a superseded
 *   version can no longer encrypt anything.
 *
 * At the end, a sweep re-encrypts anything still under an older version, and superseded
 * versions that nothing references are retired.
 *
 * @example
 * ```ts
 * const result = await reencryptAll(store, keyring, { onProgress: (p) => console.log(p.processed, p.total) });
 * ```
 */
export async function reencryptAll(store: Store, keyring: Keyring, opts: ReencryptOptions = {}): Promise<ReencryptResult> {
  const { db } = store;
  const clock = opts.clock ?? (() => new Date());
  const batchSize = opts.batchSize ?? 1000;
  const started = Date.now();
  let job = await runningReencryption(db);
  const resumed = job !== null;
  if (!job) job = await startJob(db, keyring, clock(), opts.audit);
  keyring.forget();
  const targets = JSON.parse(job.targets) as Record<string, number>;
  let cursor = (job.cursor ? JSON.parse(job.cursor) : { source: 0, key: null }) as Cursor;
  const total = Number(job.total);
  let processed = Number(job.processed);
  const processedAtStart = processed;
  let reencrypted = 0;

  const report = (phase: ReencryptProgress['phase']) => {
    if (!opts.onProgress) return;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? (processed - processedAtStart) / seconds : 0;
    const left = Math.max(0, total - processed);
    opts.onProgress({ jobId: job!.id, phase, processed, total, reencrypted, ratePerSecond: Math.round(rate), etaSeconds: rate > 0 ? Math.ceil(left / rate) : null });
  };
  const stopped = () => opts.signal?.aborted === true;
  const finish = (completed: boolean, retired: RetiredVersion[] = []): ReencryptResult => ({
    jobId: job!.id,
    resumed,
    completed,
    targets,
    processed,
    reencrypted,
    retired,
    seconds: (Date.now() - started) / 1000,
  });

  report('records');
  // Pipelined: while the worker reseals batch k, this thread stores batch k-1 and reads
  // batch k+1. Each batch still commits on its own, in order, with its cursor.
  const worker = resealWorker();
  try {
    let inFlight: ResealingBatch | null = null;
    const throttleFrom = Date.now();
    const commit = async (batch: ResealingBatch) => {
      reencrypted += await commitResealed(db, keyring, batch, { id: job!.id, now: clock() }, store.sqlite);
      processed += batch.rows.length;
      report('records');
      if (opts.maxRowsPerSecond) {
        // Behind the schedule of maxRowsPerSecond since the start: wait until it catches up.
        const due = ((processed - processedAtStart) / opts.maxRowsPerSecond) * 1000 - (Date.now() - throttleFrom);
        if (due > 0) await sleep(due);
      }
    };
    while (cursor.source < CIPHERTEXT_SOURCES.length) {
      if (stopped()) return finish(false);
      const source = CIPHERTEXT_SOURCES[cursor.source]!;
      const rows = await source.page(db, cursor.key, batchSize, store.sqlite);
      const next: Cursor = rows.length < batchSize ? { source: cursor.source + 1, key: null } : { source: cursor.source, key: rows.at(-1)!.key };
      const batch = await startResealing(db, keyring, worker, source, rows, targets, next);
      if (inFlight) await commit(inFlight);
      inFlight = batch;
      cursor = next;
    }
    if (inFlight && !stopped()) await commit(inFlight);
    if (stopped()) return finish(false);
  } finally {
    await worker.close();
  }

  // The sweep: anything still under an older version (written behind the cursor by an
  // instance that had not yet seen the rotation, or restored) is re-encrypted too.
  report('sweep');
  for (let pass = 0; pass < 10; pass++) {
    let found = 0;
    for (const source of CIPHERTEXT_SOURCES) {
      for (const [tenantId, target] of Object.entries(targets)) {
        for (;;) {
          if (stopped()) return finish(false);
          const rows = await source.older(db, tenantId, target, batchSize);
          if (rows.length === 0) break;
          found += rows.length;
          const changed = await reencryptBatch(db, keyring, source, rows, targets, { id: job.id, cursor: null, processedDelta: 0, now: clock() }, store.sqlite);
          reencrypted += changed;
          // Rows that changed under us are current already; stop looping if nothing moved.
          if (changed === 0) break;
        }
      }
    }
    if (found === 0) break;
  }

  await db.updateTable('key_jobs').set({ state: 'done', finished_at: clock().toISOString(), updated_at: clock().toISOString() }).where('id', '=', job.id).execute();
  let retired: RetiredVersion[] = [];
  if (opts.retire !== false) {
    report('retire');
    retired = await retireUnreferencedDataKeys(db, keyring, clock(), opts.audit);
  }
  report('done');
  return finish(true, retired);
}
