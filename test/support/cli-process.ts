import { spawn } from 'node:child_process';

/** What one `latchkey` process did. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI as a real process (what a user's shell does) from the repository root,
 * with `env` over the test's own environment and `stdin` written then closed.
 *
 * @example
 * ```ts
 * const run = await runCli(['integrations', 'list', '--json'], { env: { LATCHKEY_URL: s.baseUrl!, LATCHKEY_API_KEY: key } });
 * ```
 */
export function runCli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  child.stdin.end(opts.stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
