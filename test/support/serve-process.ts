import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './harness.js';

/** A `latchkey serve` running as its own operating-system process. */
export interface ServedProcess {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  out(): string;
  exited: Promise<number | null>;
}

/**
 * Starts `latchkey serve` (the CLI, under tsx) on a free loopback port with its own data
 * directory, `env` over the test's environment, and waits until it says it is running.
 * The data directory is removed when the process exits.
 *
 * @example
 * ```ts
 * const a = await serveProcess({ LATCHKEY_BOOTSTRAP_KEY: KEY, LATCHKEY_DATABASE_URL: url });
 * a.child.kill('SIGTERM'); await a.exited;
 * ```
 */
export async function serveProcess(env: Record<string, string>, opts: { port?: number } = {}): Promise<ServedProcess> {
  const port = opts.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-serve-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
  // Generous: `node --import tsx` compiles the sources on start, slow on a busy 2-core machine.
  const deadline = Date.now() + 90_000;
  while (!/is running at/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, url: `http://127.0.0.1:${port}`, out: () => out, exited };
}
