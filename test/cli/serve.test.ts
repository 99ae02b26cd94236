import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });

/** Runs `latchkey serve` as a real process and collects its stdout until it is listening. */
async function serve(env: Record<string, string>): Promise<{ child: ChildProcess; out: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!/is running at/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 100));
  return { child, out: () => out, exited };
}

describe('latchkey serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the first admin key once, serves real HTTP with it, and shuts down cleanly', async () => {
    const port = await freePort();
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_LOG_LEVEL: 'warn' };
    const first = await serve(env);
    const key = /First admin API key[^\n]*\n\s+(\S+)/.exec(first.out())?.[1];
    expect(key, first.out()).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(first.out()).toContain(`Studio:        http://127.0.0.1:${port}/studio`);
    expect(statSync(join(dataDir, 'root.key')).mode & 0o777).toBe(0o600);

    const ok = await fetch(`http://127.0.0.1:${port}/v1/providers?limit=2`, { headers: { authorization: `Bearer ${key}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: unknown[] }).data).toHaveLength(2);
    const denied = await fetch(`http://127.0.0.1:${port}/v1/providers`, { headers: { 'x-api-key': `${key}x` } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('content-type')).toContain('application/problem+json');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await serve(env);
    expect(second.out()).not.toContain('First admin API key');
    const again = await fetch(`http://127.0.0.1:${port}/v1/integrations`, { headers: { authorization: `Bearer ${key}` } });
    expect(again.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('uses LATCHKEY_BOOTSTRAP_KEY as the first admin key and refuses a short one', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-boot-'));
    const bootstrap = 'operator-chosen-bootstrap-key-0123456789';
    const srv = await serve({ LATCHKEY_DATA_DIR: dir, LATCHKEY_PORT: String(port), LATCHKEY_BOOTSTRAP_KEY: bootstrap, LATCHKEY_LOG_LEVEL: 'warn' });
    const res = await fetch(`http://127.0.0.1:${port}/v1/api-keys`, { headers: { authorization: `Bearer ${bootstrap}` } });
    expect(res.status).toBe(200);
    srv.child.kill('SIGTERM');
    await srv.exited;

    const short = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: { ...process.env, LATCHKEY_DATA_DIR: dir, LATCHKEY_PORT: String(port), LATCHKEY_BOOTSTRAP_KEY: 'too-short' },
    });
    let err = '';
    short.stderr.on('data', (d) => (err += String(d)));
    const code = await new Promise<number | null>((resolve) => short.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('LATCHKEY_BOOTSTRAP_KEY must be at least 32 characters');
    rmSync(dir, { recursive: true, force: true });
  });
});
