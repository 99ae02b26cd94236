/**
 * `integrations.connection.reveal`: the one way out for credential values. Refused without
 * the explicit grant (admins included), without the integration's opt-in, without a
 * reason; audited with the caller and the reason, never the values; 404 across tenants.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevealConnection } from '../../src/contracts/integrations/reveal-contract.js';
import { Latchkey, LatchkeyProblem, toHttpRequest } from '../../src/surfaces/client/index.js';
import { NEVER_EXPOSED_AS_TOOLS } from '../../src/surfaces/mcp/tool-catalog.js';
import { type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { createKey, dbSnapshot, expectFieldError, expectProblem } from './fixtures.js';

const ACCESS = 'gho_reveal_canary_access_93be10';
const REFRESH = 'ghr_reveal_canary_refresh_5d7a24';
const REASON = 'INC-4711: replaying a failed export by hand';
const PATH = '/v1/integrations/gh-open/connections/user-1/reveal';

describe('integrations.connection.reveal', () => {
  let s: TestServer;
  let revealer: { key: string; id: string };
  let url: string;

  const reveal = (path = PATH, key = revealer.key, headers: Record<string, string> = { 'x-reveal-reason': REASON }) => s.request('POST', path, { key, headers });
  const lastEvent = async (requestId: string) => {
    const res = await s.request('GET', '/v1/audit-events?action=integrations.connection.reveal&limit=200');
    return res.body.data.find((e: any) => e.requestId === requestId);
  };

  beforeAll(async () => {
    s = await startTestServer();
    for (const [key, allowReveal] of [['gh-open', true], ['gh-closed', false]] as const) {
      expect((await s.request('POST', '/v1/integrations', { body: { ...githubIntegration(key), allowReveal } })).status).toBe(201);
      const conn = await s.request('POST', `/v1/integrations/${key}/connections`, {
        body: { id: 'user-1', credentials: { type: 'oauth2', accessToken: ACCESS, refreshToken: REFRESH, expiresAt: '2031-01-01T00:00:00Z', scopes: ['repo'] } },
      });
      expect(conn.status, conn.text).toBe(201);
    }
    revealer = await createKey(s, s.adminKey, { role: 'runtime', policies: ['platform.credential.reveal'] });
    await s.lk.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.lk.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    // The values went out exactly where asked; never into logs or the audit trail.
    const audit = await s.request('GET', '/v1/audit-events?limit=200');
    await s?.close();
    for (const text of [s.logs.join('\n'), audit.text]) {
      expect(text).not.toContain(ACCESS);
      expect(text).not.toContain(REFRESH);
    }
  });

  it('refuses an admin that lacks the explicit grant (no role carries it), and audits the denial', async () => {
    const res = await reveal(PATH, s.adminKey, { 'x-reveal-reason': REASON, 'x-request-id': 'reveal-admin' });
    expectProblem(res, 403, 'forbidden');
    expect(res.body.detail).toContain('platform.credential.reveal');
    expect(res.text).not.toContain(ACCESS);
    expect(await lastEvent('reveal-admin')).toMatchObject({ outcome: 'denied', status: 403, actor: { keyId: expect.any(String) } });
    // An operator or a second admin fares no better.
    expectProblem(await reveal(PATH, await s.newKey('operator')), 403, 'forbidden');
  });

  it('refuses when the integration has not opted in (reveal_not_allowed), and records the reason of the attempt', async () => {
    const res = await reveal('/v1/integrations/gh-closed/connections/user-1/reveal', revealer.key, { 'x-reveal-reason': REASON, 'x-request-id': 'reveal-closed' });
    expectProblem(res, 403, 'forbidden');
    expect(res.body.reason).toBe('reveal_not_allowed');
    expect(res.body.detail).toMatch(/allowReveal/);
    expect(res.text).not.toContain(ACCESS);
    const event = await lastEvent('reveal-closed');
    expect(event).toMatchObject({ outcome: 'denied', status: 403, actor: { keyId: revealer.id }, resource: { type: 'connection', id: 'gh-closed/user-1' } });
    expect(event.changes.reason).toBe(REASON);
  });

  it('refuses without a reason, with an empty or over-long one, or with the reason in the body — changing nothing', async () => {
    const before = await dbSnapshot(s);
    const missing = await reveal(PATH, revealer.key, {});
    expectFieldError(missing, 'reason');
    expect(missing.body.errors[0].message).toContain('X-Reveal-Reason');
    expectFieldError(await reveal(PATH, revealer.key, { 'x-reveal-reason': '   ' }), 'reason');
    expectFieldError(await reveal(PATH, revealer.key, { 'x-reveal-reason': 'x'.repeat(501) }), 'reason');
    const inBody = await s.request('POST', PATH, { key: revealer.key, body: { reason: REASON } });
    expectFieldError(inBody, 'reason');
    expect(inBody.body.errors[0].message).toMatch(/X-Reveal-Reason header/);
    for (const res of [missing, inBody]) expect(res.text).not.toContain(ACCESS);
    expect(await dbSnapshot(s)).toEqual(before);
  });

  it('refuses an Idempotency-Key: a replay would skip the checks and the audit of the call', async () => {
    const res = await reveal(PATH, revealer.key, { 'x-reveal-reason': REASON, 'idempotency-key': 'reveal-once' });
    expectProblem(res, 400, 'bad_request');
    expect(res.body.detail).toMatch(/Idempotency-Key/);
    const rows = await s.lk.services.store.db.selectFrom('idempotency_keys').selectAll().where('idem_key', '=', 'reveal-once').execute();
    expect(rows).toEqual([]);
  });

  it('returns the decrypted credentials when both the grant and the opt-in hold, audited with the caller and the reason only', async () => {
    const res = await reveal(PATH, revealer.key, { 'x-reveal-reason': REASON, 'x-request-id': 'reveal-ok' });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      integration: 'gh-open',
      id: 'user-1',
      credentials: { type: 'oauth2', accessToken: ACCESS, refreshToken: REFRESH, expiresAt: '2031-01-01T00:00:00.000Z', scopes: ['repo'] },
    });
    expect(Date.parse(res.body.revealedAt)).not.toBeNaN();
    const event = await lastEvent('reveal-ok');
    expect(event).toMatchObject({
      outcome: 'success',
      status: 200,
      actor: { type: 'api_key', keyId: revealer.id },
      resource: { type: 'connection', id: 'gh-open/user-1' },
      changes: { fields: [], secretsChanged: [], reason: REASON },
    });
    expect(JSON.stringify(event)).not.toContain(ACCESS);
    // The reason is part of the hash chain like everything else in the event.
    expect((await s.request('POST', '/v1/audit-events/verify')).body.ok).toBe(true);
  });

  it('answers 404 for another tenant\'s connection, even to a key holding the grant', async () => {
    const other = await s.newTenant('Reveal tenant B');
    const theirs = await createKey(s, other.adminKey, { role: 'admin', policies: ['platform.credential.reveal'] });
    const res = await reveal(PATH, theirs.key);
    expectProblem(res, 404, 'not_found');
    expect(res.text).not.toContain(ACCESS);
    expectProblem(await reveal('/v1/integrations/gh-open/connections/nobody/reveal'), 404, 'not_found');
  });

  it('gives nothing out for a disabled connection', async () => {
    expect((await s.request('PATCH', '/v1/integrations/gh-closed/connections/user-1', { body: { enabled: false } })).status).toBe(200);
    await s.request('PATCH', '/v1/integrations/gh-closed', { body: { allowReveal: true } });
    const res = await reveal('/v1/integrations/gh-closed/connections/user-1/reveal');
    expectProblem(res, 409, 'conflict');
    expect(res.body.reason).toBe('connection_disabled');
  });

  it('is sent by the typed client with the reason as the X-Reveal-Reason header', async () => {
    expect(toHttpRequest(RevealConnection, { key: 'k', id: 'u', reason: 'why' })).toEqual({
      method: 'POST',
      url: '/v1/integrations/k/connections/u/reveal',
      body: {},
      headers: { 'X-Reveal-Reason': 'why' },
    });
    const lk = new Latchkey({ baseUrl: url, apiKey: revealer.key });
    const out = await lk.revealConnection({ key: 'gh-open', id: 'user-1', reason: REASON });
    expect(out.credentials.accessToken).toBe(ACCESS);
    const refused = await lk.revealConnection({ key: 'gh-closed', id: 'user-1', reason: '' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LatchkeyProblem);
    expect((refused as LatchkeyProblem).status).toBe(422);
  });

  it('is never an MCP tool, and is documented with its header in OpenAPI', async () => {
    expect(NEVER_EXPOSED_AS_TOOLS.has('integrations.connection.reveal')).toBe(true);
    const doc = (await s.request('GET', '/openapi.json', { key: null })).body;
    const op = doc.paths['/v1/integrations/{key}/connections/{id}/reveal'].post;
    expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'X-Reveal-Reason', in: 'header', required: true })]));
    expect(op.requestBody).toBeUndefined();
  });

  it('the CLI prints the values only when asked with --show-secrets, and refuses before calling the server otherwise', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
          env: { ...process.env, LATCHKEY_URL: url, LATCHKEY_API_KEY: revealer.key },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += String(d)));
        child.stderr.on('data', (d) => (stderr += String(d)));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const countSuccess = async () => (await s.request('GET', '/v1/audit-events?action=integrations.connection.reveal&outcome=success&limit=200')).body.data.length;
    const before = await countSuccess();
    const [refused, noReason, shown] = await Promise.all([
      cli(['integrations', 'connection', 'reveal', 'gh-open', 'user-1', '--reason', 'cli check']),
      cli(['integrations', 'connection', 'reveal', 'gh-open', 'user-1', '--show-secrets']),
      cli(['integrations', 'connection', 'reveal', 'gh-open', 'user-1', '--reason', 'cli check', '--show-secrets', '--json']),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--show-secrets/);
    expect(refused.stdout + refused.stderr).not.toContain(ACCESS);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).credentials.accessToken).toBe(ACCESS);
    // Only the one asked-for reveal reached the server.
    expect(await countSuccess()).toBe(before + 1);
  }, 120_000);
});
