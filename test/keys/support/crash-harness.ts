/**
 * Kill -9 harness for re-encryption, shared by test/keys/crash-resume.test.ts (a few dozen
 * runs) and bench/reencrypt-soak.ts (hundreds): a template SQLite data directory with known
 * secrets, copied per run; a child process re-encrypting it, killed with SIGKILL at a
 * random point; then a check that every secret still decrypts to its original value and
 * that a resumed run completes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { reportTenantChain } from '../../../src/audit/chain-report.js';
import { loadConfig } from '../../../src/config.js';
import { openOfflineSession } from '../../../src/keys/offline-session.js';
import { reencryptAll } from '../../../src/keys/reencryption.js';
import { SecretStore } from '../../../src/store/secret-store.js';
import { startTestServer } from '../../support/harness.js';
import { type Written, seedConnections } from './seed.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Bundles the child script once (esbuild, packages left external) into node_modules/.cache,
 * where it resolves the project's dependencies: a bundled child starts in a fraction of
 * the time `tsx` needs to compile the same modules, which keeps dozens of runs affordable.
 */
export async function buildChild(): Promise<string> {
  const { build } = await import('esbuild');
  const dir = join(ROOT, 'node_modules/.cache/latchkey-tests');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `reencrypt-child-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, 'test/keys/support/reencrypt-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

export interface Template {
  dir: string;
  written: Written[];
}

/** A data directory with two tenants and `perTenant` connections (two secrets each) per tenant, server closed. */
export async function makeTemplate(perTenant: number): Promise<Template> {
  const s = await startTestServer({ config: { logLevel: 'warn' } });
  const other = await s.newTenant('Crash tenant');
  const written = [await seedConnections(s, s.adminKey, 'default', perTenant), await seedConnections(s, other.adminKey, other.tenantId, Math.ceil(perTenant / 2))];
  await s.lk.close();
  return { dir: s.dataDir, written };
}

export function copyDataDir(from: string): string {
  const to = mkdtempSync(join(tmpdir(), 'latchkey-crash-'));
  for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
  return to;
}

export interface KillOutcome {
  /** What the child had reported when it died. */
  progressLines: number;
  killedAfterMs: number;
  signal: NodeJS.Signals | null;
  exitCode: number | null;
}

/**
 * Runs the child on `dir` and kills it with SIGKILL: either after `afterMs` from spawn,
 * or after it printed `afterLines` progress lines plus `jitterMs` (to land inside a batch).
 */
export function runAndKill(childScript: string, dir: string, plan: { afterMs?: number; afterLines?: number; jitterMs?: number }, args: string[] = ['5', '1500']): Promise<KillOutcome> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child: ChildProcess = spawn(process.execPath, [childScript, dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let killed = false;
    let stderr = '';
    const kill = () => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    if (plan.afterMs !== undefined) setTimeout(kill, plan.afterMs);
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (line.includes('"event":"progress"')) lines++;
        if (plan.afterLines !== undefined && lines >= plan.afterLines) setTimeout(kill, plan.jitterMs ?? 0);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => {
      if (!killed && exitCode !== 0) return reject(new Error(`child failed (${exitCode}): ${stderr.slice(0, 2000)}`));
      resolvePromise({ progressLines: lines, killedAfterMs: Date.now() - started, signal, exitCode });
    });
  });
}

export interface Recovery {
  /** Ids of values that did not read back as written (must be empty). */
  mismatches: string[];
  /** State of the job the killed run left: none (killed before it started), running (with its progress) or done. */
  jobState: 'none' | 'running' | 'done';
  jobProcessed: number;
  jobTotal: number;
  resumed: boolean;
  completed: boolean;
  /** Rows still sealed under a version older than the job's targets after the resumed run. */
  staleAfter: number;
  chainsOk: boolean;
}

/** After a kill: every secret still decrypts; a resumed run completes; everything is under the new keys; chains verify. */
export async function recover(dir: string, template: Template): Promise<Recovery> {
  const session = await openOfflineSession(loadConfig({}, { dataDir: dir, logLevel: 'silent' }), () => undefined);
  try {
    const { db } = session.store;
    const check = async () => {
      const store = new SecretStore(session.keyring);
      const bad: string[] = [];
      for (const w of template.written) {
        for (const [id, c] of w.connections) {
          try {
            const actual = await store.read(db, w.tenantId, 'connection', c.uid);
            const fields = Object.keys(c.values);
            const differing = fields.filter((f) => actual[f] !== c.values[f]);
            if (differing.length > 0 || Object.keys(actual).length !== fields.length) bad.push(`${w.tenantId}/${id}: ${differing.join(', ') || 'extra fields'}`);
          } catch {
            bad.push(`${w.tenantId}/${id} (undecryptable)`);
          }
        }
      }
      return bad;
    };
    const mismatches = await check();
    const job = await db.selectFrom('key_jobs').selectAll().orderBy('started_at', 'desc').limit(1).executeTakeFirst();
    const result = await reencryptAll(session.store, session.keyring, { batchSize: 50, audit: session.audit });
    mismatches.push(...(await check()).map((m) => `after resume: ${m}`));
    let staleAfter = 0;
    for (const [tenantId, target] of Object.entries(result.targets)) {
      const rows = await db.selectFrom('secrets').select('owner_uid').where('tenant_id', '=', tenantId).where('key_version', '<', target).execute();
      staleAfter += rows.length;
    }
    let chainsOk = true;
    for (const { id } of await db.selectFrom('tenants').select('id').execute()) {
      chainsOk &&= (await reportTenantChain(db, session.audit.chainKey, id)).ok;
    }
    return {
      mismatches,
      jobState: job ? (job.state as 'running' | 'done') : 'none',
      jobProcessed: Number(job?.processed ?? 0),
      jobTotal: Number(job?.total ?? 0),
      resumed: result.resumed,
      completed: result.completed,
      staleAfter,
      chainsOk,
    };
  } finally {
    await session.close();
  }
}

export const dataDirExists = (dir: string): boolean => existsSync(join(dir, 'latchkey.db'));

/** A seeded random source (xorshift32), so a failing run can be replayed with the same kill points. */
export function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
