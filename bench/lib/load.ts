import autocannon from 'autocannon';
import type { ServerHandle } from './servers.js';

/** One request of a load sequence; `label` groups its latencies in the result. */
export type LoadRequest = autocannon.Request & { label?: string };

export interface LoadOptions {
  url: string;
  title?: string;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
  /** Sequence each autocannon connection runs in a loop (default: `GET url`). */
  requests?: LoadRequest[];
  /** Per-request timeout in seconds (autocannon default 10). */
  timeoutS?: number;
  /** The server process, to measure its CPU time over the run. */
  server?: ServerHandle;
}

/** Latency figures in milliseconds, computed exactly from every recorded response. */
export interface OpStats {
  label: string;
  count: number;
  non2xx: number;
  /** Responses per second of this label over the run. */
  throughput: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  title: string;
  url: string;
  connections: number;
  durationS: number;
  /** All responses per second (every label). */
  throughput: number;
  totalResponses: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  overall: OpStats;
  ops: Record<string, OpStats>;
  /** Up to three non-2xx bodies, truncated, for diagnosis. */
  sampleFailures: string[];
  /**
   * CPU time (user + system) the server process spent per response over the run, in µs.
   * Much less sensitive than req/s to other work on a shared machine.
   */
  serverCpuUsPerRequest: number | null;
  /** Server CPU use over the run as a fraction of one core. */
  serverCpuCores: number | null;
  /** The load generator's (this process's) CPU use, in cores: near 1.0 means autocannon itself was the limit. */
  clientCpuCores: number;
  /** autocannon's own (integer-millisecond) summary, for cross-checking. */
  autocannon: { reqPerSecAvg: number; p50: number; p99: number; non2xx: number };
}

/** A growable list of float samples. */
class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;
  non2xx = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  stats(label: string, durationS: number): OpStats {
    const sorted = this.data.slice(0, this.length).sort();
    const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      label,
      count: this.length,
      non2xx: this.non2xx,
      throughput: durationS > 0 ? this.length / durationS : 0,
      mean: sorted.length ? sum / sorted.length : 0,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: sorted.length ? sorted[sorted.length - 1]! : 0,
    };
  }
}

/**
 * Runs autocannon against `url` for a bounded duration and records every response's
 * latency (autocannon's histogram has 1 ms resolution; these are exact, sub-millisecond).
 * With several labelled requests, each label gets its own throughput and percentiles.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const cpuBefore = opts.server ? await opts.server.cpuUsage() : null;
  const clientBefore = process.cpuUsage();
  const result = await runAutocannon(opts);
  const client = process.cpuUsage(clientBefore);
  result.clientCpuCores = (client.user + client.system) / 1e6 / result.durationS;
  if (cpuBefore && opts.server) {
    const after = await opts.server.cpuUsage();
    const used = after.user - cpuBefore.user + (after.system - cpuBefore.system);
    result.serverCpuUsPerRequest = result.totalResponses > 0 ? used / result.totalResponses : null;
    result.serverCpuCores = used / 1e6 / result.durationS;
  }
  return result;
}

function runAutocannon(opts: LoadOptions): Promise<LoadResult> {
  const overall = new Samples();
  const byLabel = new Map<string, Samples>();
  const sampleFailures: string[] = [];
  let currentLabel = 'all';

  const requests = (opts.requests ?? [{}]).map((r) => {
    const label = r.label ?? 'all';
    const original = r.onResponse;
    // autocannon calls onResponse synchronously right before its 'response' event for the
    // same response, so this is how the event learns which request it belongs to.
    const wrapped: autocannon.Request = {
      ...r,
      onResponse(status, body, context, headers) {
        currentLabel = label;
        if (status >= 300 && sampleFailures.length < 3) sampleFailures.push(`${status} ${String(body).slice(0, 300)}`);
        original?.(status, body, context, headers);
      },
    };
    delete (wrapped as LoadRequest).label;
    return wrapped;
  });

  return new Promise<LoadResult>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.durationS,
        ...(opts.headers ? { headers: opts.headers } : {}),
        requests,
        timeout: opts.timeoutS ?? 10,
        ...(opts.title ? { title: opts.title } : {}),
      },
      (err, result) => {
        if (err) return reject(err);
        const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
        const durationS = result.duration > 0 ? result.duration : elapsedS;
        const ops: Record<string, OpStats> = {};
        for (const [label, samples] of byLabel) ops[label] = samples.stats(label, durationS);
        const statusCodes: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = count;
        resolve({
          title: opts.title ?? opts.url,
          url: opts.url,
          connections: opts.connections,
          durationS,
          throughput: overall.length / durationS,
          totalResponses: overall.length,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          statusCodes,
          overall: overall.stats('all', durationS),
          ops,
          sampleFailures,
          serverCpuUsPerRequest: null,
          serverCpuCores: null,
          clientCpuCores: 0,
          autocannon: { reqPerSecAvg: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx },
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, durationMs: number) => {
      overall.push(durationMs);
      let samples = byLabel.get(currentLabel);
      if (!samples) byLabel.set(currentLabel, (samples = new Samples()));
      samples.push(durationMs);
      if (status < 200 || status >= 300) {
        overall.non2xx++;
        samples.non2xx++;
      }
      currentLabel = 'all';
    });
  });
}
