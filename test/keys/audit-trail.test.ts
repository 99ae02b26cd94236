/**
 * The audit trail as an operator sees it: `latchkey audit verify` finds an edited, deleted,
 * reordered or truncated event and names its position, `latchkey audit export` writes the
 * events as JSON lines, and audit writes are fail-closed — when the event cannot be
 * written, the operation it records does not happen.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineName, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');
const CANARY = 'audit-export-canary-secret-8c1f';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LATCHKEY_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('latchkey audit verify / export (CLI, on the data directory)', () => {
  let s: TestServer;
  let other: { tenantId: string; adminKey: string };
  let head: number;
  const copies: string[] = [];

  /** A copy of the data directory with `tamper` applied to its SQLite database. */
  const tampered = (tamper: (db: SqliteDatabase.Database) => void): string => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-tamper-'));
    copies.push(dir);
    for (const name of ['latchkey.db', 'root.key']) copyFileSync(join(s.dataDir, name), join(dir, name));
    const db = new SqliteDatabase(join(dir, 'latchkey.db'));
    tamper(db);
    db.close();
    return dir;
  };

  beforeAll(async () => {
    s = await startTestServer({ config: { logLevel: 'warn' } });
    other = await s.newTenant('Untouched');
    for (let i = 0; i < 8; i++) await s.request('POST', '/v1/integrations', { body: githubIntegration(`gh-${i}`, `${CANARY}-${i}`) });
    await s.request('POST', '/v1/integrations', { key: other.adminKey, body: githubIntegration('theirs') });
    head = Number((await s.lk.services.store.db.selectFrom('tenants').select('audit_seq').where('id', '=', 'default').executeTakeFirstOrThrow()).audit_seq);
    await s.lk.close();
  });
  afterAll(async () => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
    rmSync(s.dataDir, { recursive: true, force: true });
  });

  it('reports an intact trail as ok (exit 0), and each kind of tampering with its position (exit 1)', async () => {
    const edit = tampered((db) => db.prepare("update audit_events set action = 'integrations.integration.delete' where tenant_id = 'default' and seq = 3").run());
    const remove = tampered((db) => db.prepare("delete from audit_events where tenant_id = 'default' and seq = 4").run());
    const reorder = tampered((db) => {
      const swap = db.transaction(() => {
        db.prepare("update audit_events set seq = -1 where tenant_id = 'default' and seq = 5").run();
        db.prepare("update audit_events set seq = 5 where tenant_id = 'default' and seq = 6").run();
        db.prepare("update audit_events set seq = 6 where tenant_id = 'default' and seq = -1").run();
      });
      swap();
    });
    const truncate = tampered((db) => db.prepare("delete from audit_events where tenant_id = 'default' and seq > ?").run(head - 2));
    const [intact, edited, deleted, reordered, truncated] = (await Promise.all(
      [s.dataDir, edit, remove, reorder, truncate].map((dir) => cli(['audit', 'verify', '--data-dir', dir, '--json'])),
    )) as [Awaited<ReturnType<typeof cli>>, Awaited<ReturnType<typeof cli>>, Awaited<ReturnType<typeof cli>>, Awaited<ReturnType<typeof cli>>, Awaited<ReturnType<typeof cli>>];
    expect(intact.code, intact.stderr).toBe(0);
    expect(JSON.parse(intact.stdout).ok).toBe(true);
    expect(JSON.parse(intact.stdout).tenants.map((t: any) => t.ok)).toEqual([true, true]);

    const findings = (out: { stdout: string }) => {
      const report = JSON.parse(out.stdout);
      expect(report.ok).toBe(false);
      // The other tenant's chain is untouched and still reported ok.
      expect(report.tenants.find((t: any) => t.tenantId === other.tenantId).ok).toBe(true);
      return report.tenants.find((t: any) => t.tenantId === 'default').findings.map((f: any) => [f.seq, f.problem]);
    };
    expect(edited.code).toBe(1);
    expect(findings(edited)).toEqual([[3, 'hash_mismatch']]);
    expect(findings(deleted)).toEqual([[4, 'gap']]);
    expect(findings(reordered)).toEqual([
      [5, 'broken_link'],
      [5, 'hash_mismatch'],
      [6, 'broken_link'],
      [6, 'hash_mismatch'],
      // Event 7 still links to the real event 6, which no longer sits before it.
      [7, 'broken_link'],
    ]);
    expect(findings(truncated)).toEqual([[head - 1, 'head_mismatch']]);
    expect(truncated.stderr).toMatch(/audit chain of default is broken/);
  }, 60_000);

  it('prints positions for people too', async () => {
    const dir = tampered((db) => db.prepare("update audit_events set outcome = 'denied' where tenant_id = 'default' and seq = 2").run());
    const out = await cli(['audit', 'verify', '--data-dir', dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/TAMPERED\s+default/);
    expect(out.stdout).toMatch(/position 2: hash_mismatch — event 2 .* was edited/);
    expect(out.stdout).toMatch(new RegExp(`ok\\s+${other.tenantId}`));
  }, 30_000);

  it('exports every event as JSON lines, with hashes and without secret values', async () => {
    const file = join(copies[0] ?? s.dataDir, 'export.jsonl');
    const out = await cli(['audit', 'export', '--data-dir', s.dataDir, '--out', file]);
    expect(out.code, out.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    const events = text.trim().split('\n').map((l) => JSON.parse(l));
    const mine = events.filter((e) => e.tenantId === 'default');
    expect(mine.map((e) => e.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(events.some((e) => e.tenantId === other.tenantId)).toBe(true);
    expect(mine.every((e, i) => i === 0 || e.prevHash === mine[i - 1].hash)).toBe(true);
    expect(text).not.toContain(CANARY);
    const one = await cli(['audit', 'export', '--data-dir', s.dataDir, '--tenant', other.tenantId]);
    expect(one.stdout.trim().split('\n').every((l) => JSON.parse(l).tenantId === other.tenantId)).toBe(true);
  }, 30_000);
});

const pgUp = await postgresAvailable();
const engines: EngineName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('audit writes are fail-closed (%s)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ engine, config: { logLevel: 'fatal' } });
  });
  afterAll(async () => s?.close());

  /** Makes every insert into audit_events fail, as a full disk or a broken table would. */
  const breakAuditWrites = async () => {
    const db = s.lk.services.store.db;
    if (engine === 'sqlite') {
      await sql`create trigger audit_fails before insert on audit_events begin select raise(abort, 'audit storage failure'); end`.execute(db);
    } else {
      await sql`create function audit_fails() returns trigger language plpgsql as $$ begin raise exception 'audit storage failure'; end $$`.execute(db);
      await sql`create trigger audit_fails before insert on audit_events for each row execute function audit_fails()`.execute(db);
    }
  };
  const repairAuditWrites = async () => {
    const db = s.lk.services.store.db;
    await sql`drop trigger audit_fails${engine === 'postgres' ? sql` on audit_events` : sql``}`.execute(db);
    if (engine === 'postgres') await sql`drop function audit_fails()`.execute(db);
  };

  it('a write whose audit event cannot be written does not happen: no record, no secret, no key version', async () => {
    const db = s.lk.services.store.db;
    const count = async (table: 'integrations' | 'secrets' | 'data_keys' | 'audit_events') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = { integrations: await count('integrations'), secrets: await count('secrets'), dataKeys: await count('data_keys'), events: await count('audit_events') };
    await breakAuditWrites();
    try {
      const created = await s.request('POST', '/v1/integrations', { body: githubIntegration('never-created', 'never-stored-secret') });
      expect(created.status).toBe(500);
      expect(created.text).not.toContain('never-stored-secret');
      const rotated = await s.request('POST', '/v1/keys/data-key/rotate', { body: {} });
      expect(rotated.status).toBe(500);
    } finally {
      await repairAuditWrites();
    }
    expect({ integrations: await count('integrations'), secrets: await count('secrets'), dataKeys: await count('data_keys'), events: await count('audit_events') }).toEqual(before);
    expect((await s.request('GET', '/v1/integrations/never-created')).status).toBe(404);
    // With audit writes working again, the same operation goes through and is recorded.
    expect((await s.request('POST', '/v1/integrations', { body: githubIntegration('never-created') })).status).toBe(201);
    expect(await count('audit_events')).toBeGreaterThan(before.events);
  });

  it('a token mint (audited by group commit, outside a transaction) whose event cannot be written hands out no token', async () => {
    const token = 'gho_fail_closed_mint_canary_71d2';
    expect((await s.request('POST', '/v1/integrations', { body: githubIntegration('mint-audit') })).status).toBe(201);
    const created = await s.request('POST', '/v1/integrations/mint-audit/connections', { body: { id: 'c1', credentials: { type: 'oauth2', accessToken: token } } });
    expect(created.status, created.text).toBe(201);
    await breakAuditWrites();
    try {
      const minted = await Promise.all(Array.from({ length: 5 }, () => s.request('POST', '/v1/integrations/mint-audit/connections/c1/token', { body: {} })));
      for (const m of minted) {
        expect(m.status).toBe(500);
        expect(m.text).not.toContain(token);
      }
    } finally {
      await repairAuditWrites();
    }
    const again = await s.request('POST', '/v1/integrations/mint-audit/connections/c1/token', { body: {} });
    expect(again.status, again.text).toBe(200);
    expect(again.body.accessToken).toBe(token);
    const events = await s.lk.services.store.db.selectFrom('audit_events').select(['outcome']).where('action', '=', 'integrations.connection.token').execute();
    expect(events.map((e) => e.outcome)).toContain('success');
  });
});
