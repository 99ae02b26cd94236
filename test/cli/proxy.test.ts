/**
 * `latchkey proxy` as a real process against a running server and a loopback provider:
 * the provider's body streams to stdout, request bodies come from files or stdin, and exit
 * codes tell Latchkey's refusals (2–8, per problem class) from provider errors (9).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Upstream, connection, httpIntegration, startUpstream } from '../proxy/support.js';
import { type CliRun, runCli } from '../support/cli-process.js';
import { BOOTSTRAP_KEY, type TestServer, startTestServer } from '../support/harness.js';

const CREDENTIAL = 'cli-proxy-canary-credential-8d21f6';
const FILE_BODY = 'cli-proxy body from a file\n';

type Run = CliRun;

describe('latchkey proxy', () => {
  let s: TestServer;
  let up: Upstream;
  const work = mkdtempSync(join(tmpdir(), 'latchkey-cli-proxy-'));
  const runs: Run[] = [];

  /** The CLI as a real process, with the server URL and key from the environment. */
  async function cli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
    const run = await runCli(args, { stdin: opts.stdin, env: { LATCHKEY_URL: s.baseUrl!, LATCHKEY_API_KEY: BOOTSTRAP_KEY, ...opts.env } });
    runs.push(run);
    return run;
  }

  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true } });
    up = await startUpstream();
    // Answers what it received, except the injected credential (which a real provider would not echo).
    up.handler = (req, res, seen) => {
      const status = Number(/status=(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
      res.writeHead(status, { 'content-type': 'application/json', 'x-provider': 'loopback' });
      res.end(JSON.stringify({ method: seen.method, url: seen.url, trace: seen.headers['x-trace'] ?? null, type: seen.headers['content-type'] ?? null, bytes: seen.bytes, sha256: seen.sha256, credentialSeen: seen.headers['x-provider-key'] === CREDENTIAL }));
    };
    await httpIntegration(s, 'api', 'api_key', up.url, { authHeader: 'X-Provider-Key', authPrefix: '' });
    await connection(s, 'api', 'c1', { type: 'api_key', apiKey: CREDENTIAL });
    writeFileSync(join(work, 'body.txt'), FILE_BODY);
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
    rmSync(work, { recursive: true, force: true });
    const everything = runs.map((r) => r.stdout + r.stderr).join('\n');
    expect(runs.length).toBeGreaterThan(5);
    expect(everything).not.toContain(CREDENTIAL);
  });

  it('streams the provider\'s answer to stdout; bodies from a file, stdin or the command line', async () => {
    const [get, file, stdin, literal, head] = await Promise.all([
      cli(['proxy', 'api', 'c1', 'things/1?fields=a,b', '-H', 'X-Trace: t-1']),
      cli(['proxy', 'api', 'c1', 'upload', '-X', 'put', '--data', `@${join(work, 'body.txt')}`, '-H', 'Content-Type: text/plain']),
      cli(['proxy', 'api', 'c1', 'upload', '--data', '@-'], { stdin: 'from stdin' }),
      cli(['proxy', 'api', 'c1', 'echo', '-d', '{"a":1}', '-H', 'content-type: application/json', '-i']),
      cli(['proxy', 'api', 'c1', 'x', '-X', 'HEAD']),
    ]);
    for (const run of [get, file, stdin, literal, head]) expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ method: 'GET', url: '/things/1?fields=a,b', trace: 't-1', type: null, bytes: 0, sha256: expect.any(String), credentialSeen: true });
    expect(JSON.parse(file.stdout)).toMatchObject({ method: 'PUT', url: '/upload', type: 'text/plain', bytes: FILE_BODY.length });
    expect(JSON.parse(stdin.stdout)).toMatchObject({ method: 'POST', bytes: 'from stdin'.length });
    expect(JSON.parse(literal.stdout)).toMatchObject({ method: 'POST', type: 'application/json', bytes: 7 });
    expect(literal.stderr).toMatch(/^HTTP 200 OK\n/);
    expect(literal.stderr).toContain('x-provider: loopback');
    expect(head.stdout).toBe('');
  });

  it('exits 9 with the body on stdout when the provider answers an error, and per problem class when Latchkey refuses', async () => {
    const viewer = await s.newKey('viewer');
    const [upstream404, upstream500, missing, missingJson, forbidden, unreachable, badMethod, authHeader, dotDot, noFile] = await Promise.all([
      cli(['proxy', 'api', 'c1', 'nothing?status=404']),
      cli(['proxy', 'api', 'c1', 'broken?status=500']),
      cli(['proxy', 'api', 'nobody', 'x']),
      cli(['proxy', 'api', 'nobody', 'x', '--json']),
      cli(['proxy', 'api', 'c1', 'x'], { env: { LATCHKEY_API_KEY: viewer } }),
      cli(['proxy', 'api', 'c1', 'x'], { env: { LATCHKEY_URL: 'http://127.0.0.1:1' } }),
      cli(['proxy', 'api', 'c1', 'x', '-X', 'TRACE']),
      cli(['proxy', 'api', 'c1', 'x', '-H', `Authorization: Bearer ${CREDENTIAL}`]),
      cli(['proxy', 'api', 'c1', '../../v1/api-keys']),
      cli(['proxy', 'api', 'c1', 'x', '--data', `@${join(work, 'missing.txt')}`]),
    ]);
    expect(upstream404.code).toBe(9);
    expect(JSON.parse(upstream404.stdout)).toMatchObject({ url: '/nothing?status=404' });
    expect(upstream404.stderr).toContain('the provider answered 404');
    expect(upstream500.code).toBe(9);
    expect(missing.code).toBe(4);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/Not found \(404 not_found\): Connection "nobody"/);
    expect(JSON.parse(missingJson.stderr)).toMatchObject({ status: 404, code: 'not_found' });
    expect(forbidden.code).toBe(3);
    expect(unreachable.code).toBe(8);
    for (const usage of [badMethod, authHeader, dotDot, noFile]) expect(usage.code, usage.stderr).toBe(2);
    expect(authHeader.stderr).toContain('never forwarded');
    expect(dotDot.stderr).toContain('"." or ".." segments');
  });

  it('documents itself from the streaming contract', async () => {
    const [help, root] = await Promise.all([cli(['proxy', '--help']), cli(['--help'])]);
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const part of ['Forward any HTTP request to the provider', 'Goal: Let a workload', 'Policy: platform.connection.use', 'GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS (streamed) /v1/proxy/{key}/{id}/{path}', 'Contract integrations.proxy v1.0.0', '-X, --request <method>', '-H, --header <header>', '--data <source>']) {
      expect(text).toContain(part);
    }
    expect(root.stdout).toMatch(/^\s+proxy \[options\] <integration> <connectionId> <path>\s+Proxy a request to the provider/m);
    expect(root.stdout).toContain('9  latchkey proxy: the provider answered 4xx or 5xx');
  });
});
