/**
 * What-if matrix for the read path. For each round, for each experiment set (in turn, so
 * slow phases of a shared host hit every set alike): a fresh server with that set
 * (bench/lib/experiments.ts monkey-patches the server process only), seeded, warmed up,
 * then measured; plus hello-world in the same rounds. Reports medians over the rounds of
 * req/s and — the steadier figure — server CPU µs per request.
 *
 *   node --import tsx bench/experiments.ts [--rounds 3] [--duration 5] [--seed 300]
 *   BENCH_EXPERIMENT_SETS="fifo-mutex;exclusive-lock,fifo-mutex" node --import tsx bench/experiments.ts
 */
import { readOnce } from './connection-read.js';
import { measureHello } from './lib/hello.js';
import type { LoadResult } from './lib/load.js';
import { isMain, runMain } from './lib/main.js';
import { parseBenchOptions } from './lib/options.js';

const DEFAULT_SETS = ['', 'fifo-mutex', 'exclusive-lock', 'no-output-check', 'fifo-mutex,exclusive-lock,no-output-check'];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const roundsAt = argv.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 3;
  const rest = roundsAt >= 0 ? [...argv.slice(0, roundsAt), ...argv.slice(roundsAt + 2)] : argv;
  const opts = await parseBenchOptions(['--engine', 'sqlite', '--duration', '5', '--seed', '300', '--probe', '0', ...rest]);
  const sets = process.env.BENCH_EXPERIMENT_SETS !== undefined ? process.env.BENCH_EXPERIMENT_SETS.split(';') : DEFAULT_SETS;
  const results = new Map<string, LoadResult[]>();
  const add = (name: string, r: LoadResult) => results.set(name, [...(results.get(name) ?? []), r]);
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`bench: round ${round}/${rounds}\n`);
    add('hello-world (GET /)', await measureHello(opts));
    for (const set of sets) {
      process.env.BENCH_EXPERIMENTS = set;
      const r = await readOnce('sqlite', { ...opts, floor: false, probeS: 0 });
      add(set || 'baseline', r.loaded);
    }
    delete process.env.BENCH_EXPERIMENTS;
  }
  const helloCpu = median(results.get('hello-world (GET /)')!.map((r) => r.serverCpuUsPerRequest ?? NaN));
  const helloRps = median(results.get('hello-world (GET /)')!.map((r) => r.throughput));
  const baseCpu = median((results.get('baseline') ?? []).map((r) => r.serverCpuUsPerRequest ?? NaN));
  const lines = [['variant (SQLite read, 50 conns)', 'req/s (median)', 'CPU µs/req (median)', 'CPU µs/req (all rounds)', 'vs baseline CPU', 'req/s vs hello', 'CPU eff. vs hello']];
  for (const [name, rs] of results) {
    const cpu = median(rs.map((r) => r.serverCpuUsPerRequest ?? NaN));
    const rps = median(rs.map((r) => r.throughput));
    lines.push([
      name,
      rps.toFixed(0),
      cpu.toFixed(1),
      rs.map((r) => (r.serverCpuUsPerRequest ?? NaN).toFixed(0)).join(' / '),
      name.startsWith('hello') ? '-' : `${(((cpu - baseCpu) / baseCpu) * 100).toFixed(1)}%`,
      `${((rps / helloRps) * 100).toFixed(1)}%`,
      `${((helloCpu / cpu) * 100).toFixed(1)}%`,
    ]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  process.stdout.write(`\n${lines.map((l, j) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + (j === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n')}\n`);
  process.stdout.write(`${rounds} rounds, ${opts.durationS}s each, ${opts.seed} connections; experiments patch the server process only (bench/lib/experiments.ts), src/ is unchanged\n`);
  return 0;
}

if (isMain(import.meta.url)) runMain(main);
