import { DestinationRefusedError } from '../net/destination-refused-error.js';
import type { OutboundGuard } from '../net/outbound-guard.js';
import { awsSesTester } from './aws-ses-tester.js';
import type { ConnectionTester, TestTarget } from './connection-tester.js';
import { httpTester } from './http-tester.js';
import { classifyNetworkError } from './network-errors.js';
import { postgresqlTester } from './postgresql-tester.js';
import { collectSecrets, createScrubber, scrubResult } from './secret-scrubber.js';
import { sftpTester } from './sftp-tester.js';
import { failed, TestFailure, type TestResult } from './test-result.js';

export const DEFAULT_TEST_TIMEOUT_MS = 10_000;

/** The built-in testers by `provider.test.kind`. */
export const CONNECTION_TESTERS: ReadonlyMap<string, ConnectionTester> = new Map(
  [httpTester, postgresqlTester, sftpTester, awsSesTester].map((t) => [t.kind, t]),
);

export interface RunTestOptions {
  guard: OutboundGuard;
  /** Hard limit for the whole test, connect included; default 10 s. */
  timeoutMs?: number;
  /** Cancels the test (e.g. the HTTP request that asked for it went away). */
  signal?: AbortSignal;
  /** Replaces the built-in testers (tests inject slow or failing ones). */
  testers?: ReadonlyMap<string, ConnectionTester>;
}

function toFailure(error: unknown, started: number): TestResult {
  if (error instanceof TestFailure) return failed(started, error.code, error.message, error.details);
  if (error instanceof DestinationRefusedError) return failed(started, 'destination_refused', error.message, { category: error.category });
  const network = classifyNetworkError(error);
  if (network) return failed(started, network.code, network.message, network.details);
  return failed(started, 'unexpected_error', error instanceof Error ? error.message : String(error));
}

/**
 * Runs the connection test the provider declares and always settles within `timeoutMs`:
 * the tester gets an `AbortSignal` to close its sockets, and a timer races it so even a
 * tester that ignores the signal cannot hold the caller. Every string of the result is
 * scrubbed of the credentials (in their raw, base64 and URL-encoded spellings) before it is
 * returned, so a server that echoes a password into its error text cannot leak it.
 *
 * @example
 * ```ts
 * const result = await runConnectionTest(
 *   { provider, authMethod: 'basic', integrationConfig: {}, connectionConfig: { host, database }, credentials },
 *   { guard: new OutboundGuard({ allowPrivateNetworks: config.allowPrivateNetworks }), timeoutMs: 5000 },
 * );
 * if (!result.ok) console.log(result.error.code); // 'auth_failed'
 * ```
 */
export async function runConnectionTest(target: TestTarget, options: RunTestOptions): Promise<TestResult> {
  const started = performance.now();
  // A zero, negative or NaN limit is a caller bug; testing with the default beats failing at once.
  const timeoutMs = options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_TEST_TIMEOUT_MS;
  const scrub = createScrubber(collectSecrets(target.credentials));
  const finish = (result: TestResult) => scrubResult(result, scrub);

  const declared = target.provider.test;
  if (declared.kind === 'none') return finish(failed(started, 'not_supported', `${target.provider.displayName} connections cannot be tested: ${declared.reason}`));
  const tester = (options.testers ?? CONNECTION_TESTERS).get(declared.kind);
  if (!tester) return finish(failed(started, 'not_supported', `no tester for ${declared.kind} connections`));
  if (options.signal?.aborted) return finish(failed(started, 'timeout', 'the test was cancelled before it started'));

  const controller = new AbortController();
  let reason = `no answer within ${timeoutMs} ms`;
  const cancel = () => {
    reason = 'the test was cancelled';
    controller.abort();
  };
  options.signal?.addEventListener('abort', cancel, { once: true });
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const stopped = new Promise<TestResult>((resolve) => {
    controller.signal.addEventListener('abort', () => resolve(failed(started, 'timeout', reason, { timeoutMs })), { once: true });
  });
  const run = Promise.resolve()
    .then(() => tester.test(target, { timeoutMs, guard: options.guard, signal: controller.signal }))
    .catch((error: unknown) => toFailure(error, started));
  try {
    return finish(await Promise.race([run, stopped]));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
    // Late settlements of a timed-out tester are already caught above; nothing else to do.
  }
}
