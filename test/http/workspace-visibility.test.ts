import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { createConnection, createKey, dbSnapshot, expectProblem } from './fixtures.js';

/**
 * What src/domain/visibility.ts allows inside one tenant: a workspace-restricted key sees
 * records with no workspace and its own workspace's; a user-bound key sees every
 * non-user-scoped record and its own user-scoped ones. Everything else is 404.
 */
const RECORDS = {
  global: { scope: 'global' },
  wsA: { scope: 'workspace', workspaceId: 'ws-a' },
  wsB: { scope: 'workspace', workspaceId: 'ws-b' },
  userA: { scope: 'user', ownerUserId: 'u-a' },
  userB: { scope: 'user', ownerUserId: 'u-b' },
  userAinB: { scope: 'user', ownerUserId: 'u-a', workspaceId: 'ws-b' },
} as const;
type Name = keyof typeof RECORDS;
const ALL = Object.keys(RECORDS) as Name[];

const CALLERS: { label: string; restrict: Record<string, string>; sees: Name[] }[] = [
  { label: 'unrestricted', restrict: {}, sees: ALL },
  { label: 'workspace ws-a', restrict: { workspaceId: 'ws-a' }, sees: ['global', 'wsA', 'userA', 'userB'] },
  { label: 'user u-a', restrict: { userId: 'u-a' }, sees: ['global', 'wsA', 'wsB', 'userA', 'userAinB'] },
  { label: 'workspace ws-a + user u-a', restrict: { workspaceId: 'ws-a', userId: 'u-a' }, sees: ['global', 'wsA', 'userA'] },
];

describe('workspace-restricted and user-bound keys', () => {
  let s: TestServer;
  const keys = new Map<string, { key: string; id: string }>();
  const integrationKey = (name: Name) => `vis-${name}`;

  beforeAll(async () => {
    s = await startTestServer();
    for (const name of ALL) {
      const res = await s.request('POST', '/v1/integrations', { body: { ...githubIntegration(integrationKey(name)), ...RECORDS[name] } });
      expect(res.status, res.text).toBe(201);
      await createConnection(s, s.adminKey, integrationKey(name), `conn-${name}`);
    }
    for (const caller of CALLERS) {
      keys.set(caller.label, await createKey(s, s.adminKey, { role: 'operator', ...caller.restrict }));
    }
  });
  afterAll(async () => s?.close());

  for (const caller of CALLERS) {
    describe(caller.label, () => {
      const key = () => keys.get(caller.label)!.key;

      it('lists exactly the visible integrations and connections', async () => {
        const list = await s.request('GET', '/v1/integrations?limit=200', { key: key() });
        expect(list.status, list.text).toBe(200);
        expect(list.body.data.map((r: any) => r.key).sort()).toEqual(caller.sees.map(integrationKey).sort());
        const conns = await s.request('GET', '/v1/connections?limit=200', { key: key() });
        expect(conns.body.data.map((r: any) => r.id).sort()).toEqual(caller.sees.map((n) => `conn-${n}`).sort());
        for (const scope of ['global', 'workspace', 'user']) {
          const filtered = await s.request('GET', `/v1/integrations?scope=${scope}`, { key: key() });
          expect(filtered.body.data.map((r: any) => r.key).sort()).toEqual(
            caller.sees.filter((n) => RECORDS[n].scope === scope).map(integrationKey).sort(),
          );
        }
      });

      it('reads what it sees and gets 404 (never 403) for the rest, changing nothing', async () => {
        for (const name of ALL) {
          const visible = caller.sees.includes(name);
          const k = integrationKey(name);
          const reads = [
            await s.request('GET', `/v1/integrations/${k}`, { key: key() }),
            await s.request('GET', `/v1/integrations/${k}/connections`, { key: key() }),
            await s.request('GET', `/v1/integrations/${k}/connections/conn-${name}`, { key: key() }),
          ];
          for (const res of reads) {
            if (visible) expect(res.status, `${caller.label} reads ${name}: ${res.text}`).toBe(200);
            else expectProblem(res, 404, 'not_found');
          }
          if (visible) continue;
          const before = await dbSnapshot(s);
          const writes = [
            await s.request('PATCH', `/v1/integrations/${k}`, { key: key(), body: { description: 'hijacked' } }),
            await s.request('PUT', `/v1/integrations/${k}`, { key: key(), body: { provider: 'github', displayName: 'x', config: { clientId: 'y' } } }),
            await s.request('PATCH', `/v1/integrations/${k}/connections/conn-${name}`, { key: key(), body: { metadata: {} } }),
            await s.request('POST', `/v1/integrations/${k}/connections`, { key: key(), body: { id: 'intruder', credentials: { type: 'oauth2', accessToken: 'x' } } }),
            await s.request('DELETE', `/v1/integrations/${k}/connections/conn-${name}`, { key: key() }),
            await s.request('DELETE', `/v1/integrations/${k}?cascade=true`, { key: key() }),
          ];
          for (const res of writes) expectProblem(res, 404, 'not_found');
          expect(await dbSnapshot(s)).toEqual(before);
        }
      });
    });
  }

  it('a workspace-restricted key sees and revokes only its workspace\'s API keys', async () => {
    const wsA = await createKey(s, s.adminKey, { role: 'admin', workspaceId: 'ws-a' });
    const inA = await createKey(s, s.adminKey, { role: 'viewer', workspaceId: 'ws-a' });
    const inB = await createKey(s, s.adminKey, { role: 'viewer', workspaceId: 'ws-b' });
    const list = await s.request('GET', '/v1/api-keys?limit=200', { key: wsA.key });
    expect(list.status, list.text).toBe(200);
    const ids = list.body.data.map((k: any) => k.id);
    expect(ids).toContain(inA.id);
    expect(ids).not.toContain(inB.id);
    expect(list.body.data.every((k: any) => k.workspaceId === 'ws-a')).toBe(true);
    expectProblem(await s.request('DELETE', `/v1/api-keys/${inB.id}`, { key: wsA.key }), 404, 'not_found');
    expect((await s.request('GET', '/v1/integrations', { key: inB.key })).status).toBe(200);
    // It cannot mint keys outside its workspace either.
    expectProblem(await s.request('POST', '/v1/api-keys', { key: wsA.key, body: { name: 'x', role: 'admin' } }), 403, 'forbidden');
    const revoked = await s.request('DELETE', `/v1/api-keys/${inA.id}`, { key: wsA.key });
    expect(revoked.status, revoked.text).toBe(200);
  });

  it('a workspace-restricted key can only place integrations in its own workspace', async () => {
    const ws = keys.get('workspace ws-a')!.key;
    const before = await dbSnapshot(s);
    expectProblem(await s.request('POST', '/v1/integrations', { key: ws, body: githubIntegration('ws-global') }), 403, 'forbidden');
    expectProblem(
      await s.request('POST', '/v1/integrations', { key: ws, body: { ...githubIntegration('ws-other'), scope: 'workspace', workspaceId: 'ws-b' } }),
      403,
      'forbidden',
    );
    expect(await dbSnapshot(s)).toEqual(before);
    // A refusal by the handler is audited as a denial, like a missing policy.
    const denied = await s.request('GET', '/v1/audit-events?outcome=denied&action=integrations.integration.create&limit=2');
    expect(denied.body.data).toHaveLength(2);
    expect(denied.body.data.every((e: any) => e.status === 403 && e.actor.keyId === keys.get('workspace ws-a')!.id)).toBe(true);
    const own = await s.request('POST', '/v1/integrations', { key: ws, body: { ...githubIntegration('ws-own'), scope: 'workspace' } });
    expect(own.status, own.text).toBe(201);
    expect(own.body.workspaceId).toBe('ws-a');
    // Moving its own record to another workspace is refused too.
    const moved = await s.request('PATCH', '/v1/integrations/ws-own', { key: ws, body: { workspaceId: 'ws-b' } });
    expectProblem(moved, 403, 'forbidden');
    expect((await s.request('GET', '/v1/integrations/ws-own')).body.workspaceId).toBe('ws-a');
  });

  it('a workspace-restricted key cannot edit a visible record outside any workspace, nor pull it into its own', async () => {
    const ws = keys.get('workspace ws-a')!.key;
    const before = await dbSnapshot(s);
    for (const name of ['global', 'userB'] as const) {
      expectProblem(await s.request('PATCH', `/v1/integrations/${integrationKey(name)}`, { key: ws, body: { description: 'edited' } }), 403, 'forbidden');
    }
    expect(await dbSnapshot(s)).toEqual(before);
    expect((await s.request('GET', `/v1/integrations/${integrationKey('userB')}`)).body.workspaceId).toBeNull();
  });

  it('a user-bound key can only own its own user-scoped integrations', async () => {
    const user = keys.get('user u-a')!.key;
    const other = await s.request('POST', '/v1/integrations', { key: user, body: { ...githubIntegration('u-other'), scope: 'user', ownerUserId: 'u-b' } });
    expectProblem(other, 403, 'forbidden');
    const mine = await s.request('POST', '/v1/integrations', { key: user, body: { ...githubIntegration('u-mine'), scope: 'user', ownerUserId: 'u-a' } });
    expect(mine.status, mine.text).toBe(201);
    const handOver = await s.request('PATCH', '/v1/integrations/u-mine', { key: user, body: { ownerUserId: 'u-b' } });
    expectProblem(handOver, 403, 'forbidden');
    expect((await s.request('GET', '/v1/integrations/u-mine')).body.ownerUserId).toBe('u-a');
  });

  it('a user-bound key cannot mint keys that escape its user binding', async () => {
    const bound = await createKey(s, s.adminKey, { role: 'admin', userId: 'u-a' });
    const before = await dbSnapshot(s);
    expectProblem(await s.request('POST', '/v1/api-keys', { key: bound.key, body: { name: 'unbound', role: 'admin' } }), 403, 'forbidden');
    expectProblem(await s.request('POST', '/v1/api-keys', { key: bound.key, body: { name: 'other', role: 'viewer', userId: 'u-b' } }), 403, 'forbidden');
    expect(await dbSnapshot(s)).toEqual(before);
    const same = await s.request('POST', '/v1/api-keys', { key: bound.key, body: { name: 'same', role: 'viewer', userId: 'u-a' } });
    expect(same.status, same.text).toBe(201);
    expect(same.body.apiKey.userId).toBe('u-a');
  });

  it('a user-bound key sees and revokes only its own user\'s API keys', async () => {
    const bound = await createKey(s, s.adminKey, { role: 'admin', userId: 'u-a' });
    const mine = await createKey(s, s.adminKey, { role: 'viewer', userId: 'u-a' });
    const theirs = await createKey(s, s.adminKey, { role: 'viewer', userId: 'u-b' });
    const unbound = await createKey(s, s.adminKey, { role: 'viewer' });
    const list = await s.request('GET', '/v1/api-keys?limit=200', { key: bound.key });
    expect(list.status, list.text).toBe(200);
    const ids = list.body.data.map((k: any) => k.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
    expect(ids).not.toContain(unbound.id);
    const before = await dbSnapshot(s);
    expectProblem(await s.request('DELETE', `/v1/api-keys/${theirs.id}`, { key: bound.key }), 404, 'not_found');
    expectProblem(await s.request('DELETE', `/v1/api-keys/${unbound.id}`, { key: bound.key }), 404, 'not_found');
    expect(await dbSnapshot(s)).toEqual(before);
    expect((await s.request('DELETE', `/v1/api-keys/${mine.id}`, { key: bound.key })).status).toBe(200);
  });

  it('seeing a record is not owning it: restricted keys cannot delete or rewrite records outside their scope', async () => {
    const created = await s.request('POST', '/v1/integrations', { body: githubIntegration('vis-owned-global') });
    expect(created.status, created.text).toBe(201);
    await createConnection(s, s.adminKey, 'vis-owned-global', 'keep-me');
    const wsKey = await createKey(s, s.adminKey, { role: 'operator', workspaceId: 'ws-a' });
    const userKey = await createKey(s, s.adminKey, { role: 'operator', userId: 'u-z' });
    const before = await dbSnapshot(s);
    expectProblem(await s.request('DELETE', '/v1/integrations/vis-owned-global?cascade=true', { key: wsKey.key }), 403, 'forbidden');
    expectProblem(await s.request('PATCH', '/v1/integrations/vis-owned-global', { key: userKey.key, body: { secrets: { clientSecret: 'attacker-secret' } } }), 403, 'forbidden');
    expectProblem(await s.request('DELETE', '/v1/integrations/vis-owned-global', { key: userKey.key }), 403, 'forbidden');
    expect(await dbSnapshot(s)).toEqual(before);
  });

  it('restricted keys read only their peers\' audit events and cannot verify the whole chain', async () => {
    const wsViewer = await createKey(s, s.adminKey, { role: 'viewer', workspaceId: 'ws-audit' });
    const wsOperator = await createKey(s, s.adminKey, { role: 'operator', workspaceId: 'ws-audit' });
    const made = await s.request('POST', '/v1/integrations', { key: wsOperator.key, body: { ...githubIntegration('vis-audit-ws'), scope: 'workspace' } });
    expect(made.status, made.text).toBe(201);
    const events = await s.request('GET', '/v1/audit-events?limit=200', { key: wsViewer.key });
    expect(events.status, events.text).toBe(200);
    const actors = new Set(events.body.data.map((e: { actor: { keyId: string } }) => e.actor.keyId));
    expect(actors.has(wsOperator.id)).toBe(true);
    expect([...actors].every((id) => id === wsOperator.id || id === wsViewer.id)).toBe(true);
    expectProblem(await s.request('POST', '/v1/audit-events/verify', { key: wsViewer.key }), 403, 'forbidden');
  });
});
