import { writeFileSync } from 'node:fs';
import type { LoadResult } from './load.js';

/** One line of a benchmark table. Latencies in milliseconds. */
export interface BenchRow {
  bench: string;
  engine: string;
  op: string;
  connections: number;
  durationS: number;
  throughput: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Server-process CPU time per response (µs), and its ratio to hello-world's. */
  cpuUsPerReq: number | null;
  cpuVsHello: number | null;
  /** CPU cores used by the server process and by the load generator over the run. */
  serverCores: number | null;
  clientCores: number;
  /** Throughput as a fraction of hello-world measured in the same run (mean of the runs right before and after; null for hello itself). */
  ratio: number | null;
  /** The hello-world throughput the ratio is against. */
  helloThroughput: number | null;
  target: { text: string; pass: boolean } | null;
}

/** Builds a row from a load result (one label of it, or the whole run). */
export function rowOf(bench: string, engine: string, op: string, result: LoadResult, helloThroughput: number | null, label?: string, helloCpuUsPerReq?: number | null): BenchRow {
  const stats = label ? result.ops[label] : result.overall;
  if (!stats) throw new Error(`no responses labelled ${label} in ${result.title}`);
  return {
    bench,
    engine,
    op,
    connections: result.connections,
    durationS: round(result.durationS, 1),
    throughput: round(stats.throughput, 0),
    p50: round(stats.p50, 2),
    p99: round(stats.p99, 2),
    errors: result.errors + result.timeouts,
    non2xx: label ? stats.non2xx : result.non2xx,
    // Per label, CPU cannot be split: shown for unlabelled runs only.
    cpuUsPerReq: !label && result.serverCpuUsPerRequest !== null ? round(result.serverCpuUsPerRequest, 1) : null,
    cpuVsHello: !label && result.serverCpuUsPerRequest && helloCpuUsPerReq ? round(helloCpuUsPerReq / result.serverCpuUsPerRequest, 3) : null,
    serverCores: result.serverCpuCores === null ? null : round(result.serverCpuCores, 2),
    clientCores: round(result.clientCpuCores, 2),
    ratio: helloThroughput ? round(stats.throughput / helloThroughput, 3) : null,
    helloThroughput: helloThroughput ? round(helloThroughput, 0) : null,
    target: null,
  };
}

export const round = (n: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

/** A fixed-width text table. */
export function formatTable(rows: BenchRow[]): string {
  const header = ['bench', 'engine', 'op', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'vs hello', 'srv CPU µs/req', 'CPU eff. vs hello', 'cores srv/gen', 'target'];
  const body = rows.map((r) => [
    r.bench,
    r.engine,
    r.op,
    String(r.connections),
    r.throughput.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    String(r.errors),
    String(r.non2xx),
    pct(r.ratio),
    r.cpuUsPerReq === null ? '-' : r.cpuUsPerReq.toFixed(1),
    pct(r.cpuVsHello),
    `${r.serverCores === null ? '-' : r.serverCores.toFixed(2)}/${r.clientCores.toFixed(2)}`,
    r.target ? `${r.target.pass ? 'PASS' : 'FAIL'} (${r.target.text})` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface BenchReport {
  bench: string;
  startedAt: string;
  host: { node: string; platform: string; cpus: number };
  settings: Record<string, unknown>;
  rows: BenchRow[];
  raw: Record<string, LoadResult>;
  notes: string[];
}

/** Prints the table (and the JSON when asked) and writes the JSON file when asked. */
export function emit(report: BenchReport, opts: { json: boolean; out?: string | undefined }): void {
  process.stdout.write(`\n${formatTable(report.rows)}\n`);
  process.stdout.write(
    'legend: "vs hello" = req/s ÷ mean req/s of hello-world measured right before and after (each server in its own child process);\n' +
      '        "srv CPU µs/req" = server-process CPU (user+sys) per response; "CPU eff. vs hello" = hello\'s µs/req ÷ this µs/req\n' +
      '        (the CPU figures are far less sensitive to other load on a shared host than req/s);\n' +
      '        "cores srv/gen" = CPU cores used by the server process / by the autocannon process (gen ≈ 1.0: the generator was the limit)\n',
  );
  for (const note of report.notes) process.stdout.write(`${note}\n`);
  if (opts.json) process.stdout.write(`\n${JSON.stringify({ ...report, raw: undefined }, null, 2)}\n`);
  if (opts.out) {
    writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`results written to ${opts.out}\n`);
  }
}
