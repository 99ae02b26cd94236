import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLatchkey } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type CliRun, runCli } from '../support/cli-process.js';
import { BOOTSTRAP_KEY, type TestServer, startTestServer } from '../support/harness.js';

const FILE_CANARY = 'cli-canary-from-file-5b2e91';
const STDIN_CANARY = 'cli-canary-from-stdin-c40d7a';
const PLAIN_CANARY = 'cli-canary-plain-flag-9e6f03';
const CONNECTION_CANARY = 'cli-canary-connection-key-17aa4c';

type Run = CliRun;

// Most of the time goes into starting Node processes (~1 s each), so independent commands
// run side by side with Promise.all.
describe('latchkey CLI against a running server', () => {
  let s: TestServer;
  let url: string;
  const work = mkdtempSync(join(tmpdir(), 'latchkey-cli-test-'));
  const runs: Run[] = [];

  /** The CLI as a real process, with the server URL and key from the environment. */
  async function cli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
    const run = await runCli(args, { stdin: opts.stdin, env: { LATCHKEY_URL: url, LATCHKEY_API_KEY: BOOTSTRAP_KEY, ...opts.env } });
    runs.push(run);
    return run;
  }
  const json = (run: Run) => {
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout);
  };
  const stored = async (kind: 'integration' | 'connection', uid: string) => s.lk.services.secrets.read(s.lk.services.store.db, 'default', kind, uid);

  beforeAll(async () => {
    s = await startTestServer();
    await s.lk.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.lk.app.server.address() as AddressInfo).port}`;
    writeFileSync(join(work, 'client-secret.txt'), `${FILE_CANARY}\n`, { mode: 0o600 });
    writeFileSync(join(work, 'api-key.txt'), CONNECTION_CANARY, { mode: 0o600 });
  });
  afterAll(async () => {
    await s?.close();
    rmSync(work, { recursive: true, force: true });
    // No secret value ever reached the terminal, whatever the command.
    const everything = runs.map((r) => r.stdout + r.stderr).join('\n');
    expect(runs.length).toBeGreaterThan(10);
    for (const canary of [FILE_CANARY, STDIN_CANARY, CONNECTION_CANARY, PLAIN_CANARY]) expect(everything).not.toContain(canary);
  });

  it('creates, lists, updates with carry-forward and deletes an integration', async () => {
    const secretFile = join(work, 'client-secret.txt');
    const [created, fromStdin] = await Promise.all([
      cli(['integrations', 'integration', 'create', '--key', 'gh-cli', '--provider', 'github', '--display-name', 'GitHub CLI', '--auth-method', 'oauth2',
        '--config', 'clientId=Iv1.0123456789abcdef', '--secret', `clientSecret=@${secretFile}`, '--tags', 'team-a', '--tags', 'prod', '--json']),
      cli(['integrations', 'integration', 'create', '--key', 'gh-stdin', '--provider', 'github', '--display-name', 'From stdin',
        '--config', 'clientId=Iv1.0123456789abcdef', '--secret', 'clientSecret=@-', '--json'], { stdin: `${STDIN_CANARY}\n` }),
    ]);
    const integration = json(created);
    expect(integration).toMatchObject({ key: 'gh-cli', displayName: 'GitHub CLI', tags: ['team-a', 'prod'], hasSecrets: { clientSecret: true } });
    expect(await stored('integration', integration.uid)).toEqual({ clientSecret: FILE_CANARY });
    expect(await stored('integration', json(fromStdin).uid)).toEqual({ clientSecret: STDIN_CANARY });

    // Only displayName changes; the secret is omitted, so it carries forward untouched.
    const [listed, table, update] = await Promise.all([
      cli(['integrations', 'integration', 'list', '--json']),
      cli(['integrations', 'integration', 'list', '--provider', 'github']),
      cli(['integrations', 'integration', 'update', 'gh-cli', '--display-name', 'GitHub (renamed)', '--if-match', String(integration.version), '--json']),
    ]);
    expect(json(listed).data.map((i: { key: string }) => i.key)).toEqual(expect.arrayContaining(['gh-cli', 'gh-stdin']));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^KEY\s+DISPLAYNAME\s+PROVIDER/m);
    expect(table.stdout).toMatch(/^gh-cli\s+GitHub (CLI|\(renamed\))\s+github\s/m);
    const updated = json(update);
    expect(updated).toMatchObject({ key: 'gh-cli', uid: integration.uid, displayName: 'GitHub (renamed)', version: integration.version + 1, hasSecrets: { clientSecret: true } });
    expect(await stored('integration', integration.uid)).toEqual({ clientSecret: FILE_CANARY });

    const [record, stale, deletedOther] = await Promise.all([
      cli(['integrations', 'integration', 'get', 'gh-cli']),
      cli(['integrations', 'integration', 'update', 'gh-cli', '--enabled', '--if-match', String(integration.version)]),
      cli(['integrations', 'integration', 'delete', 'gh-stdin', '--json']),
    ]);
    expect(record.stdout).toMatch(/^displayName\s+GitHub \(renamed\)$/m);
    expect(record.stdout).toMatch(/^hasSecrets\.clientSecret\s+true$/m);
    expect(stale.code).toBe(5);
    expect(json(deletedOther)).toMatchObject({ key: 'gh-stdin', deleted: true });

    const [deleted, gone, goneJson] = await Promise.all([
      cli(['integrations', 'integration', 'delete', 'gh-cli', '--json']),
      cli(['integrations', 'integration', 'get', 'gh-stdin']),
      cli(['integrations', 'integration', 'get', 'gh-stdin', '--json']),
    ]);
    expect(json(deleted)).toMatchObject({ key: 'gh-cli', deleted: true });
    expect(gone.code).toBe(4);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toContain('Integration "gh-stdin" was not found');
    expect(goneJson.code).toBe(4);
    expect(JSON.parse(goneJson.stderr)).toMatchObject({ status: 404, code: 'not_found' });
    expect((await s.request('GET', '/v1/integrations/gh-cli')).status).toBe(404);
  }, 60_000);

  it('imports a connection with a credential read from a file, and refuses plain secret values', async () => {
    const integration = await s.request('POST', '/v1/integrations', {
      body: { key: 'api-cli', provider: 'http', displayName: 'API', authMethod: 'api_key', config: { baseUrl: 'https://api.example.com' } },
    });
    expect(integration.status, integration.text).toBe(201);
    const [created, plain, plainCredential] = await Promise.all([
      cli(['integrations', 'connection', 'create', 'api-cli', '--id', 'acct-1', '--credential', 'type=api_key', '--credential', `apiKey=@${join(work, 'api-key.txt')}`, '--metadata', 'team=core', '--json']),
      cli(['integrations', 'integration', 'create', '--key', 'gh-plain', '--provider', 'github', '--display-name', 'x', '--secret', `clientSecret=${PLAIN_CANARY}`]),
      cli(['integrations', 'connection', 'update', 'api-cli', 'acct-1', '--credential', `apiKey=${PLAIN_CANARY}`]),
    ]);
    const connection = json(created);
    expect(connection).toMatchObject({ id: 'acct-1', metadata: { team: 'core' }, credentials: { type: 'api_key', hasSecrets: { apiKey: true } } });
    expect(await stored('connection', connection.uid)).toEqual({ apiKey: CONNECTION_CANARY });
    for (const refused of [plain, plainCredential]) {
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/is a secret and is not read from the command line/);
    }

    // The explicit escape hatch works (and its help says what it costs).
    const explicit = json(await cli(['integrations', 'integration', 'create', '--key', 'gh-explicit', '--provider', 'github', '--display-name', 'x',
      '--config', 'clientId=Iv1.0123456789abcdef', '--secret-value', 'clientSecret=explicit-value-accepted', '--json']));
    expect(explicit.hasSecrets).toEqual({ clientSecret: true });
  });

  it('maps problems and mistakes to exit codes and documents them', async () => {
    const [help, opHelp, unauthorized, unreachable, missing, usage, updateHelp, revokeHelp] = await Promise.all([
      cli(['--help']),
      cli(['integrations', 'integration', 'create', '--help']),
      cli(['integrations', 'integration', 'list'], { env: { LATCHKEY_API_KEY: 'not-a-valid-key-0123456789abcdefghijklmnop' } }),
      cli(['integrations', 'integration', 'list'], { env: { LATCHKEY_URL: 'http://127.0.0.1:1' } }),
      cli(['integrations', 'integration', 'create', '--key', 'x', '--json']),
      cli(['integrations', 'integration', 'list', '--no-such-flag']),
      cli(['integrations', 'integration', 'update', '--help']),
      cli(['access', 'api-key', 'revoke', '--help']),
    ]);
    // --if-match only where the operation honours If-Match (http.ifMatch).
    expect(updateHelp.stdout).toContain('--if-match <version>');
    expect(revokeHelp.code, revokeHelp.stderr).toBe(0);
    expect(revokeHelp.stdout).not.toContain('--if-match');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toMatch(/^\s+integrations\s/m);
    expect(opHelp.code).toBe(0);
    for (const flag of ['--display-name <value>', '--config <name=value>', '--secret <name=source>', '--secret-value', '--enabled', '--no-enabled', '--json']) expect(opHelp.stdout).toContain(flag);
    expect(opHelp.stdout).toContain('shell');
    expect(unauthorized.code).toBe(3);
    expect(unreachable.code).toBe(8);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--provider');
    expect(usage.code).toBe(2);
  });

  it('answers who am I with the generated `access principal whoami`, never printing the key', async () => {
    const [table, asJson] = await Promise.all([cli(['access', 'principal', 'whoami']), cli(['access', 'principal', 'whoami', '--json'])]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^role\s+admin$/m);
    expect(table.stdout).toMatch(/^tenant\.isPlatform\s+true$/m);
    const me = json(asJson);
    expect(me).toMatchObject({ role: 'admin', tenant: { id: 'default' }, policies: [] });
    expect(me.grants).toEqual(expect.arrayContaining(['platform.access.manage', 'platform.self.read', 'platform.tenant.manage']));
    expect(table.stdout + asJson.stdout).not.toContain(BOOTSTRAP_KEY);
  });

  it('creates a tenant and prints a completion script', async () => {
    const [tenant, bash] = await Promise.all([cli(['tenant', 'create', 'Acme', '--json']), cli(['completion', 'bash'])]);
    const created = json(tenant);
    expect(created.tenant.name).toBe('Acme');
    expect(created.adminKey).toMatch(/^lk_/);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -F _latchkey_complete latchkey');
    expect(bash.stdout).toContain('"latchkey integrations integration"');
    const syntax = spawn('bash', ['-n'], { stdio: ['pipe', 'ignore', 'pipe'] });
    syntax.stdin.end(bash.stdout);
    expect(await new Promise((resolve) => syntax.on('close', resolve))).toBe(0);
  });

  it('init --json creates the data dir, a 0600 root key and an admin key that works once the server starts there', async () => {
    const dataDir = join(work, 'fresh');
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'warn' };
    const first = json(await cli(['init', '--json'], { env }));
    expect(first).toMatchObject({ dataDir, rootKeyFile: join(dataDir, 'root.key'), created: true });
    expect(first.adminKey).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dataDir, 'root.key')).mode & 0o777).toBe(0o600);
    const again = json(await cli(['init', '--json'], { env }));
    expect(again).toMatchObject({ created: false, adminKey: null });

    const lk = await createLatchkey(loadConfig({}, { dataDir, logLevel: 'warn' }));
    try {
      expect(lk.firstAdminKey).toBeNull();
      const res = await lk.app.inject({ method: 'GET', url: '/v1/api-keys', headers: { authorization: `Bearer ${first.adminKey}` } });
      expect(res.statusCode).toBe(200);
    } finally {
      await lk.close();
    }
  });
});
