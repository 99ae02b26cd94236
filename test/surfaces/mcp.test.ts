import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { Authenticator } from '../../src/domain/access/authenticator.js';
import { listenMcpHttp } from '../../src/surfaces/mcp/mcp-http.js';
import { createMcpServer } from '../../src/surfaces/mcp/mcp-server.js';
import { REDACTED, scrubSecrets } from '../../src/surfaces/mcp/scrub-secrets.js';
import { NEVER_EXPOSED_AS_TOOLS, toolNameOf } from '../../src/surfaces/mcp/tool-catalog.js';
import { BOOTSTRAP_KEY, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';

const CANARY = 'mcp-canary-client-secret-7f3a9c1e';

type ToolResult = { isError?: boolean; content: Array<{ type: string; text?: string }> };

describe('MCP server', () => {
  let s: TestServer;
  let authenticator: Authenticator;
  /** Every text the MCP clients received, to search for the canary at the end. */
  const seen: string[] = [];

  async function connect(key: string): Promise<Client> {
    const server = createMcpServer({ registry: s.lk.registry, version: '0.0.0-test', principal: () => authenticator.authenticate(key) });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'latchkey-test', version: '1.0.0' });
    await client.connect(clientSide);
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; body: any }> {
    const result = (await client.callTool({ name, arguments: args })) as ToolResult;
    const text = result.content.map((c) => c.text ?? '').join('');
    seen.push(text);
    return { isError: result.isError === true, body: JSON.parse(text) };
  }

  let admin: Client;
  beforeAll(async () => {
    s = await startTestServer();
    authenticator = new Authenticator(s.lk.services.store);
    admin = await connect(BOOTSTRAP_KEY);
  });
  afterAll(async () => {
    await admin?.close();
    await s?.close();
    const all = seen.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(CANARY);
  });

  it('lists every operation as a tool except the never-exposed ones', async () => {
    const { tools } = await admin.listTools();
    seen.push(JSON.stringify(tools));
    const expected = ALL_CONTRACTS.filter((c) => !NEVER_EXPOSED_AS_TOOLS.has(c.meta.key)).map((c) => toolNameOf(c.meta.key));
    expect(tools.map((t) => t.name).sort()).toEqual([...expected].sort());
    for (const excluded of ['access_apiKey_create', 'access_tenant_create', 'integrations_connection_reveal', 'integrations_connection_token']) {
      expect(tools.some((t) => t.name === excluded)).toBe(false);
    }
    for (const tool of tools) expect(tool.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);

    const create = tools.find((t) => t.name === 'integrations_integration_create')!;
    expect(create.description).toContain('Goal:');
    expect(create.inputSchema.type).toBe('object');
    expect(create.inputSchema.required).toEqual(expect.arrayContaining(['key', 'provider', 'displayName']));
    expect(Object.keys(create.inputSchema.properties ?? {})).toContain('secrets');
    expect(create.annotations?.readOnlyHint).toBe(false);
    expect(tools.find((t) => t.name === 'integrations_integration_list')!.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === 'integrations_integration_delete')!.annotations?.destructiveHint).toBe(true);
  });

  it('offers who-am-i to any key, and never the proxy, whose refusal is written down', async () => {
    const viewer = await connect(await s.newKey('viewer'));
    try {
      const me = await call(viewer, 'access_principal_whoami');
      expect(me.isError).toBe(false);
      expect(me.body).toMatchObject({ role: 'viewer', tenant: { id: 'default' } });
      expect(me.body.grants).toContain('platform.integration.read');
      const { tools } = await viewer.listTools();
      expect(tools.some((t) => t.name === 'access_principal_whoami')).toBe(true);
      expect(tools.some((t) => t.name.includes('proxy'))).toBe(false);
    } finally {
      await viewer.close();
    }
    expect(NEVER_EXPOSED_AS_TOOLS.get('integrations.proxy')).toMatch(/third-party/);
  });

  it('runs a write tool and a read tool through the registry; secrets come back only as hasSecrets', async () => {
    const created = await call(admin, 'integrations_integration_create', githubIntegration('gh-mcp', CANARY));
    expect(created.isError).toBe(false);
    expect(created.body).toMatchObject({ key: 'gh-mcp', provider: 'github', hasSecrets: { clientSecret: true } });

    const got = await call(admin, 'integrations_integration_get', { key: 'gh-mcp' });
    expect(got.isError).toBe(false);
    expect(got.body.uid).toBe(created.body.uid);

    const listed = await call(admin, 'integrations_integration_list', { limit: 10 });
    expect(listed.body.data.map((i: { key: string }) => i.key)).toContain('gh-mcp');

    const audit = await call(admin, 'audit_event_list', { action: 'integrations.integration.create' });
    expect(audit.body.data[0].changes.secretsChanged).toEqual(['clientSecret']);
  });

  it('answers a refused or invalid call with an error result carrying the problem, never a crash', async () => {
    const viewer = await connect(await s.newKey('viewer'));
    try {
      const denied = await call(viewer, 'integrations_integration_create', githubIntegration('gh-viewer', CANARY));
      expect(denied.isError).toBe(true);
      expect(denied.body).toMatchObject({ code: 'forbidden', status: 403 });
      const read = await call(viewer, 'integrations_integration_get', { key: 'gh-mcp' });
      expect(read.isError).toBe(false);
    } finally {
      await viewer.close();
    }
    const denials = await s.request('GET', '/v1/audit-events?outcome=denied&action=integrations.integration.create');
    expect(denials.body.data.length).toBeGreaterThan(0);

    const invalid = await call(admin, 'integrations_integration_create', { key: 'bad key!', provider: 'github', displayName: 'x' });
    expect(invalid.isError).toBe(true);
    expect(invalid.body.code).toBe('validation_failed');
    expect(invalid.body.errors.some((e: { path: string }) => e.path === 'key')).toBe(true);

    const missing = await call(admin, 'integrations_integration_get', { key: 'nope' });
    expect(missing.body).toMatchObject({ code: 'not_found', status: 404 });

    await expect(admin.callTool({ name: 'access_apiKey_create', arguments: { name: 'agent', role: 'admin' } })).rejects.toThrow(/unknown tool/);
  });

  it('refuses arguments nested too deep as a bad request (the registry checks depth for every surface, not only HTTP)', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    expect((await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-deep') })).status).toBe(201);
    const res = await call(admin, 'integrations_connection_create', { key: 'gh-deep', id: 'deep', credentials: { type: 'pat', token: 'x' }, metadata: { deep } });
    expect(res.isError).toBe(true);
    expect(res.body, JSON.stringify(res.body)).toMatchObject({ code: 'bad_request', status: 400 });
    expect(res.body.detail).toContain('deeper than');
    expect((await s.request('GET', '/v1/integrations/gh-deep/connections/deep')).status).toBe(404);
  });

  it('stops working for a key revoked after start-up', async () => {
    const created = await s.request('POST', '/v1/api-keys', { body: { name: 'short-lived', role: 'admin' } });
    const agent = await connect(created.body.key);
    try {
      await s.request('DELETE', `/v1/api-keys/${created.body.apiKey.id}`);
      const after = await call(agent, 'integrations_integration_list');
      expect(after.isError).toBe(true);
      expect(after.body.code).toBe('unauthenticated');
    } finally {
      await agent.close();
    }
  });

  it('serves streamable HTTP on loopback, with each request authenticated by its own key', async () => {
    const listener = await listenMcpHttp({ registry: s.lk.registry, authenticator, version: '0.0.0-test', port: 0 });
    try {
      const anonymous = await fetch(listener.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(anonymous.status).toBe(401);
      const client = new Client({ name: 'latchkey-http-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(listener.url), { requestInit: { headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` } } }));
      const { tools } = await client.listTools();
      expect(tools.length).toBe(ALL_CONTRACTS.filter((c) => !NEVER_EXPOSED_AS_TOOLS.has(c.meta.key)).length);
      const got = await call(client, 'integrations_integration_get', { key: 'gh-mcp' });
      expect(got.body.hasSecrets).toEqual({ clientSecret: true });
      await client.close();
    } finally {
      await listener.close();
    }
  });

  it('runs as `latchkey mcp` over real stdio against the same database', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/cli/main.ts', 'mcp'],
      env: { ...env, LATCHKEY_DATA_DIR: s.dataDir, LATCHKEY_DATABASE_URL: s.databaseUrl, LATCHKEY_API_KEY: BOOTSTRAP_KEY, LATCHKEY_LOG_LEVEL: 'warn' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d) => (stderr += String(d)));
    const client = new Client({ name: 'latchkey-stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('integrations_connection_create');
      const got = await call(client, 'integrations_integration_get', { key: 'gh-mcp' });
      expect(got.isError).toBe(false);
      expect(got.body).toMatchObject({ key: 'gh-mcp', hasSecrets: { clientSecret: true } });
      const tenants = await call(client, 'access_tenant_list');
      expect(tenants.body.data.map((t: { id: string }) => t.id)).toContain('default');
    } finally {
      await client.close();
    }
    expect(stderr).not.toContain(CANARY);
    expect(stderr).not.toContain(BOOTSTRAP_KEY);
    // The value the MCP tool stored is exactly the canary: written through the tool, never read back by one.
    const uid = (await s.request('GET', '/v1/integrations/gh-mcp')).body.uid;
    expect(await s.lk.services.secrets.read(s.lk.services.store.db, 'default', 'integration', uid)).toEqual({ clientSecret: CANARY });
  }, 30_000);

  it('scrubs anything secret-shaped from tool results as a second line of defence', () => {
    const apiKey = `lk_${'A'.repeat(43)}`;
    const scrubbed = scrubSecrets({
      key: 'github-prod',
      hasSecrets: { clientSecret: true },
      secrets: { webhookSecret: 'v1', nested: ['v2'] },
      credentials: { type: 'oauth2', accessToken: 'at', expiresAt: null },
      note: `key ${apiKey}`,
      adminKey: 'anything',
    });
    expect(scrubbed).toEqual({
      key: 'github-prod',
      hasSecrets: { clientSecret: true },
      secrets: { webhookSecret: REDACTED, nested: [REDACTED] },
      credentials: { type: 'oauth2', accessToken: REDACTED, expiresAt: null },
      note: REDACTED,
      adminKey: REDACTED,
    });
  });
});
