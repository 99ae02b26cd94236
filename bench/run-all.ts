/**
 * Runs the read, write, token-mint and proxy benchmarks and prints one combined table (the
 * list-page and re-encryption benchmarks seed up to a million rows and run on their own:
 * `npm run bench:list`, `bench:reencrypt`).
 *
 *   npm run bench -- [--engine sqlite|postgres|both] [--strict] [--isolated] [--json] [--out file.json]
 *   BENCH_DURATION=10 node --import tsx bench/run-all.ts
 */
import { runConnectionRead } from './connection-read.js';
import { runCreateUpdate } from './create-update.js';
import { isMain, runMain } from './lib/main.js';
import { runProxyBench } from './proxy.js';
import { runTokenMint } from './token-mint.js';
import { hostInfo, parseBenchOptions } from './lib/options.js';
import { type BenchReport, emit } from './lib/report.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const isolated = argv.includes('--isolated') || process.env.BENCH_ISOLATED === '1';
  const opts = await parseBenchOptions(argv.filter((a) => a !== '--isolated'));
  const startedAt = new Date().toISOString();
  const read = await runConnectionRead(opts);
  const write = await runCreateUpdate(opts, isolated);
  const mint = await runTokenMint(opts);
  const proxy = await runProxyBench(opts);
  const report: BenchReport = {
    bench: 'all',
    startedAt,
    host: hostInfo(),
    settings: { engines: opts.engines, durationS: opts.durationS, warmupS: opts.warmupS, probeS: opts.probeS, connections: opts.connections, seed: opts.seed, isolated },
    rows: [...read.rows, ...write.rows, ...mint.rows, ...proxy.rows],
    raw: { ...read.raw, ...write.raw, ...mint.raw, ...proxy.raw },
    notes: [
      ...opts.notes,
      ...proxy.notes,
      'read target applies to SQLite; write loop: each connection runs POST then PATCH of the same connection',
    ],
  };
  emit(report, { json: opts.json, out: opts.out });
  const failed = report.rows.some((r) => r.target && !r.target.pass);
  return opts.strict && failed ? 1 : 0;
}

if (isMain(import.meta.url)) runMain(main);
