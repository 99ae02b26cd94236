/**
 * The outbox's guarantees across processes: an event committed with its change is
 * delivered after a crash and restart; a delivery claimed by an instance that died is
 * taken over when its lease ends; several instances sharing one database deliver each
 * event exactly once (lease on SQLite, FOR UPDATE SKIP LOCKED plus lease on PostgreSQL).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Latchkey, createLatchkey } from '../../src/app.js';
import { type LatchkeyConfig, loadConfig } from '../../src/config.js';
import { openStore } from '../../src/store/database.js';
import { claimDueDeliveries } from '../../src/webhooks/delivery-claims.js';
import { BOOTSTRAP_KEY, type EngineName, githubIntegration, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { type Receiver, startReceiver, verifyStandardWebhook } from './support/receiver.js';

const pgUp = await postgresAvailable();
const engines: EngineName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

async function call(lk: Latchkey, method: string, url: string, body?: unknown) {
  const res = await lk.app.inject({
    method: method as 'POST',
    url,
    headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, text: res.body };
}

describe('outbox durability across a crash and restart (SQLite file)', () => {
  let rx: Receiver;
  let dataDir: string;
  let config: LatchkeyConfig;
  beforeAll(async () => {
    rx = await startReceiver();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-outbox-'));
    config = loadConfig({}, { dataDir, bootstrapKey: BOOTSTRAP_KEY, allowPrivateNetworks: true, logLevel: 'silent', rateLimitPerSecond: 0, webhookTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await rx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers an event committed before the process went away, once a new process starts on the same file and root key', async () => {
    // The first process commits the change and its event, but never gets to deliver it.
    const first = await createLatchkey({ ...config, webhookDispatcher: false });
    const hook = await call(first, 'POST', '/v1/webhooks', { url: rx.url('/restart'), events: ['connection.created'] });
    expect(hook.status, hook.text).toBe(201);
    expect((await call(first, 'POST', '/v1/integrations', githubIntegration('gh-restart'))).status).toBe(201);
    const conn = await call(first, 'POST', '/v1/integrations/gh-restart/connections', { id: 'user-1', credentials: { type: 'oauth2', accessToken: 'gho_restart_canary' } });
    expect(conn.status, conn.text).toBe(201);
    const pending = await first.services.store.db.selectFrom('webhook_deliveries').selectAll().execute();
    expect(pending.map((d) => [d.event_type, d.status, d.attempts])).toEqual([['connection.created', 'pending', 0]]);
    await first.close();
    expect(rx.received).toHaveLength(0);

    // A new process on the same data directory (same SQLite file and root key file) delivers it by itself.
    const second = await createLatchkey({ ...config, webhookDispatcher: true, webhookPollMs: 50 });
    try {
      const [req] = await rx.waitFor('/restart', 1);
      expect(verifyStandardWebhook(hook.body.secret, req!.headers, req!.body)).toBe(true);
      expect(JSON.parse(req!.body)).toMatchObject({ type: 'connection.created', data: { connectionId: 'user-1', connectionUid: conn.body.uid } });
      expect(req!.body).not.toContain('gho_restart_canary');
      // The receiver has answered; the dispatcher records the outcome right after.
      let list = await call(second, 'GET', `/v1/webhooks/${hook.body.id}/deliveries`);
      for (let i = 0; i < 200 && list.body.data[0]?.status === 'pending'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        list = await call(second, 'GET', `/v1/webhooks/${hook.body.id}/deliveries`);
      }
      expect(list.body.data).toEqual([expect.objectContaining({ id: pending[0]!.id, status: 'succeeded', attemptCount: 1 })]);
    } finally {
      await second.close();
    }
    expect(rx.at('/restart')).toHaveLength(1);
  }, 60_000);

  it('takes over a delivery whose claimant died mid-attempt once its lease has expired, and not before', async () => {
    const lk = await createLatchkey({ ...config, webhookDispatcher: false });
    try {
      for (const e of (await call(lk, 'GET', '/v1/webhooks')).body.data) await call(lk, 'DELETE', `/v1/webhooks/${e.id}`);
      const hook = await call(lk, 'POST', '/v1/webhooks', { url: rx.url('/takeover'), events: ['connection.created'] });
      expect((await call(lk, 'POST', '/v1/integrations/gh-restart/connections', { id: 'user-2', credentials: { type: 'oauth2', accessToken: 'x' } })).status).toBe(201);
      // Another instance claims the delivery, then dies before recording anything.
      const other = openStore({ url: config.databaseUrl });
      const now = new Date();
      const stolen = await claimDueDeliveries(other.db, other.engine, { now, limit: 10, leaseMs: 60_000 });
      await other.close();
      expect(stolen.map((d) => d.endpoint_uid)).toEqual([hook.body.id]);
      // While the dead instance's lease lasts, nobody else sends it.
      expect(await lk.webhooks.runOnce(new Date(now.getTime() + 59_000))).toMatchObject({ claimed: 0 });
      expect(rx.at('/takeover')).toHaveLength(0);
      // After it, the delivery is taken over and sent once.
      expect(await lk.webhooks.runOnce(new Date(now.getTime() + 61_000))).toMatchObject({ claimed: 1, succeeded: 1 });
      expect(rx.at('/takeover')).toHaveLength(1);
      expect(await lk.webhooks.runOnce(new Date(now.getTime() + 3600_000))).toMatchObject({ claimed: 0 });
    } finally {
      await lk.close();
    }
  }, 60_000);
});

describe.each(engines)('several instances sharing one %s database', (engine) => {
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
  });
  afterAll(async () => rx?.close());

  it('claims never overlap: concurrent claimers take disjoint sets of due deliveries', async () => {
    const s = await startTestServer({ engine, config: { webhookDispatcher: false, allowPrivateNetworks: true } });
    const stores = [openStore({ url: s.databaseUrl }), openStore({ url: s.databaseUrl }), openStore({ url: s.databaseUrl })];
    try {
      const hook = await s.request('POST', '/v1/webhooks', { body: { url: rx.url('/claims'), events: ['connection.created'] } });
      expect(hook.status).toBe(201);
      await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-claims') });
      for (let i = 0; i < 30; i++) {
        const r = await s.request('POST', '/v1/integrations/gh-claims/connections', { body: { id: `u${i}`, credentials: { type: 'oauth2', accessToken: 'x' } } });
        expect(r.status).toBe(201);
      }
      const now = new Date(Date.now() + 1000);
      const claims = await Promise.all([...stores, ...stores].map((store) => claimDueDeliveries(store.db, store.engine, { now, limit: 7, leaseMs: 60_000 })));
      const ids = claims.flat().map((d) => d.id);
      expect(ids.length).toBe(30);
      expect(new Set(ids).size).toBe(30);
      // Every claim wrote its own lease token on its own rows.
      for (const batch of claims) expect(new Set(batch.map((d) => d.lease_token)).size).toBeLessThanOrEqual(1);
    } finally {
      for (const store of stores) await store.close();
      await s.close();
    }
  }, 60_000);

  it('delivers each event exactly once while two instances dispatch side by side', async () => {
    const config = { webhookDispatcher: true, webhookPollMs: 15, allowPrivateNetworks: true, logLevel: 'silent' };
    const a = await startTestServer({ engine, config });
    const b = await createLatchkey(loadConfig({}, { dataDir: a.dataDir, databaseUrl: a.databaseUrl, bootstrapKey: BOOTSTRAP_KEY, rateLimitPerSecond: 0, ...config }));
    try {
      const hook = await a.request('POST', '/v1/webhooks', { body: { url: rx.url('/twice'), events: ['connection.created', 'connection.deleted'] } });
      expect(hook.status, hook.text).toBe(201);
      await a.request('POST', '/v1/integrations', { body: githubIntegration('gh-twice') });
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        // Half the changes are made on each instance, so each one's dispatcher wakes up too.
        const lk = i % 2 === 0 ? a.lk : b;
        writes.push(call(lk, 'POST', '/v1/integrations/gh-twice/connections', { id: `u${i}`, credentials: { type: 'oauth2', accessToken: 'x' } }));
      }
      await Promise.all(writes);
      await call(b, 'DELETE', '/v1/integrations/gh-twice?cascade=true');
      const received = await rx.waitFor('/twice', 40, 60_000);
      // Every outcome recorded, then a little longer for any duplicate to arrive.
      const db = a.lk.services.store.db;
      for (let i = 0; i < 400; i++) {
        const pending = await db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').execute();
        if (pending.length === 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(rx.at('/twice')).toHaveLength(40);
      expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(40);
      for (const r of received) expect(verifyStandardWebhook(hook.body.secret, r.headers, r.body)).toBe(true);
      const done = await db.selectFrom('webhook_deliveries').select(['status', 'attempts']).execute();
      expect(done).toHaveLength(40);
      expect(done.every((d) => d.status === 'succeeded' && Number(d.attempts) === 1)).toBe(true);
    } finally {
      await b.close();
      await a.close();
    }
  }, 120_000);
});
