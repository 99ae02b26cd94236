import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { postgresReachable } from './postgres.js';
import type { Engine } from './targets.js';

export interface BenchOptions {
  engines: Engine[];
  durationS: number;
  warmupS: number;
  connections: number;
  seed: number;
  /** Seconds of the 1-connection latency probe (0 = off). */
  probeS: number;
  strict: boolean;
  json: boolean;
  out: string | undefined;
  /** Also measure the bench-only "floor" read route (bench/lib/floor-route.ts, SQLite). */
  floor: boolean;
  /** Directory for `--cpu-prof` of the Latchkey server processes. */
  cpuProfDir: string | undefined;
  notes: string[];
}

const num = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not "${value}"`);
  return n;
};

/**
 * Common flags: --engine sqlite|postgres|both (default: both when PostgreSQL answers),
 * --duration S (env BENCH_DURATION, default 10), --warmup S (BENCH_WARMUP, 2),
 * --connections N (BENCH_CONNECTIONS, 50), --seed N (BENCH_SEED, 1000),
 * --probe S (BENCH_PROBE, 5; 1-connection latency probe, 0 = off), --strict,
 * --floor (BENCH_FLOOR=1; read bench also measures the what-if route of bench/lib/floor-route.ts),
 * --json (print JSON too), --out FILE (write JSON), --cpu-prof DIR (BENCH_CPU_PROF),
 * --dist DIR (BENCH_DIST; Latchkey servers run that compiled build).
 */
export async function parseBenchOptions(argv = process.argv.slice(2)): Promise<BenchOptions> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      seed: { type: 'string' },
      probe: { type: 'string' },
      strict: { type: 'boolean' },
      floor: { type: 'boolean' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      'cpu-prof': { type: 'string' },
      dist: { type: 'string' },
    },
  });
  // --dist DIR: Latchkey servers run the compiled build (what `npm start` runs), not the
  // sources under tsx (whose per-function name helpers cost a few % of CPU per request).
  const dist = values.dist ?? process.env.BENCH_DIST;
  if (dist) {
    const dir = resolve(dist);
    if (!existsSync(join(dir, 'app.js'))) throw new Error(`--dist: ${dir}/app.js does not exist (npm run build first)`);
    process.env.BENCH_DIST = dir;
  }
  const notes: string[] = [];
  const wanted = values.engine ?? process.env.BENCH_ENGINE ?? 'auto';
  let engines: Engine[];
  if (wanted === 'sqlite') engines = ['sqlite'];
  else if (wanted === 'postgres' || wanted === 'both') {
    if (!(await postgresReachable())) throw new Error('PostgreSQL is not reachable (set BENCH_DATABASE_URL)');
    engines = wanted === 'both' ? ['sqlite', 'postgres'] : ['postgres'];
  } else if (wanted === 'auto') {
    engines = (await postgresReachable()) ? ['sqlite', 'postgres'] : ['sqlite'];
    if (engines.length === 1) notes.push('note: PostgreSQL is not reachable; measured SQLite only');
  } else throw new Error(`--engine must be sqlite, postgres or both, not "${wanted}"`);
  if (process.env.BENCH_EXPERIMENTS) notes.push(`EXPERIMENTS ON (Latchkey server monkey-patched, see bench/lib/experiments.ts): ${process.env.BENCH_EXPERIMENTS}`);
  notes.push(process.env.BENCH_DIST ? `server: the compiled build in ${process.env.BENCH_DIST}` : 'server: the sources under tsx (--dist DIR runs a compiled build)');
  if (cpus().length <= 2) notes.push(`note: ${cpus().length} CPU(s): server and load generator share them; compare ratios, not absolute req/s`);
  return {
    engines,
    durationS: num('--duration', values.duration ?? process.env.BENCH_DURATION, 10),
    warmupS: num('--warmup', values.warmup ?? process.env.BENCH_WARMUP, 2),
    connections: num('--connections', values.connections ?? process.env.BENCH_CONNECTIONS, 50),
    seed: num('--seed', values.seed ?? process.env.BENCH_SEED, 1000),
    probeS: num('--probe', values.probe ?? process.env.BENCH_PROBE, 5),
    strict: values.strict ?? false,
    floor: values.floor ?? process.env.BENCH_FLOOR === '1',
    json: values.json ?? false,
    out: values.out,
    cpuProfDir: values['cpu-prof'] ?? process.env.BENCH_CPU_PROF,
    notes,
  };
}

export function hostInfo() {
  return { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length };
}
