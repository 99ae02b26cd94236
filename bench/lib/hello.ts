import { runLoad, type LoadResult } from './load.js';
import type { BenchOptions } from './options.js';
import { type BenchRow, rowOf } from './report.js';
import { withServer } from './servers.js';

/**
 * Measures the hello-world baseline in its own child process with the same connections,
 * warm-up and duration as the run it is compared with.
 */
export async function measureHello(opts: Pick<BenchOptions, 'connections' | 'durationS' | 'warmupS'>, when = '', path = '/'): Promise<LoadResult> {
  return withServer('hello', 'sqlite', {}, async (server) => {
    const url = `${server.url}${path}`;
    if (opts.warmupS > 0) await runLoad({ url, connections: opts.connections, durationS: opts.warmupS, title: 'hello warm-up' });
    process.stderr.write(`bench: hello-world${when ? ` (${when})` : ''} ${opts.durationS}s @ ${opts.connections} connections…\n`);
    return runLoad({ server, url, connections: opts.connections, durationS: opts.durationS, title: `hello-world ${when}`.trim() });
  });
}

export interface Bracketed<T> {
  before: LoadResult;
  after: LoadResult;
  /** Mean hello-world throughput of the two baselines: what ratios are computed against. */
  helloThroughput: number;
  /** Mean hello-world server CPU µs per request of the two baselines. */
  helloCpuUsPerReq: number | null;
  value: T;
}

/**
 * Hello-world right before and right after `fn` (same run, same settings), so a machine
 * whose speed drifts (other work on a shared host) shows up as a gap between the two.
 */
export async function bracketWithHello<T>(opts: Pick<BenchOptions, 'connections' | 'durationS' | 'warmupS'>, label: string, fn: () => Promise<T>): Promise<Bracketed<T>> {
  const before = await measureHello(opts, `before ${label}`);
  const value = await fn();
  const after = await measureHello(opts, `after ${label}`);
  const cpu = before.serverCpuUsPerRequest !== null && after.serverCpuUsPerRequest !== null ? (before.serverCpuUsPerRequest + after.serverCpuUsPerRequest) / 2 : null;
  return { before, after, value, helloThroughput: (before.throughput + after.throughput) / 2, helloCpuUsPerReq: cpu };
}

/** The two hello-world rows of a bracketed measurement. */
export function helloRows(b: Bracketed<unknown>, label: string): BenchRow[] {
  return [rowOf('hello-world', '-', `GET / (before ${label})`, b.before, null), rowOf('hello-world', '-', `GET / (after ${label})`, b.after, null)];
}
