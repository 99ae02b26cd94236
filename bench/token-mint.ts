/**
 * Token-mint benchmark: `POST /v1/integrations/{key}/connections/{id}/token` for connections
 * whose access token is valid (the cached path: decrypt, audit, answer), at 50 connections,
 * cycling over every seeded connection, against hello-world measured around it in the same
 * run. Server and load generator are separate processes.
 *
 *   node --import tsx bench/token-mint.ts [--engine sqlite|postgres|both] [--strict]
 *        [--duration 10] [--seed 1000] [--probe 5] [--json] [--out file.json]
 *
 * Target (OAuth issue): mint ≥ 50 % of hello-world throughput. Every mint writes an audit
 * event (fail-closed), so this is a write path, not a read path.
 */
import { authHeaders, call, createConnections, createIntegration } from './lib/api.js';
import { bracketWithHello, helloRows } from './lib/hello.js';
import { type LoadResult, runLoad } from './lib/load.js';
import { isMain, runMain } from './lib/main.js';
import { type BenchOptions, hostInfo, parseBenchOptions } from './lib/options.js';
import { type BenchReport, type BenchRow, emit, rowOf } from './lib/report.js';
import { type Engine, withServer } from './lib/servers.js';

export const MINT_TARGET = { minRatio: 0.5 } as const;
const KEY = 'bench-mint';

async function mintOnce(engine: Engine, opts: BenchOptions): Promise<{ loaded: LoadResult; unloaded: LoadResult | null }> {
  return withServer('latchkey', engine, { cpuProfDir: opts.cpuProfDir, env: {} }, async (server) => {
    const n = Math.max(1, opts.seed);
    const ids = Array.from({ length: n }, (_, i) => `conn-${String(i).padStart(6, '0')}`);
    await createIntegration(server, KEY);
    await createConnections(server, KEY, ids);
    const sample = await call(server, 'POST', `/v1/integrations/${KEY}/connections/${ids[0]}/token`);
    if (sample.status !== 200 || typeof sample.body.accessToken !== 'string') throw new Error(`unexpected mint answer: ${sample.status} ${JSON.stringify(sample.body)}`);
    const paths = ids.map((id) => `/v1/integrations/${KEY}/connections/${id}/token`);
    let next = 0;
    const requests = [{ method: 'POST', path: paths[0]!, headers: authHeaders(server), setupRequest: (req: { path?: string }) => ({ ...req, path: paths[next++ % paths.length]! }) }];
    const base = { url: server.url, requests, server };
    if (opts.warmupS > 0) await runLoad({ ...base, connections: opts.connections, durationS: opts.warmupS });
    process.stderr.write(`bench: ${engine}: token mint ${opts.durationS}s @ ${opts.connections} connections…\n`);
    const loaded = await runLoad({ ...base, connections: opts.connections, durationS: opts.durationS, title: `token mint (${engine})` });
    const unloaded = opts.probeS > 0 ? await runLoad({ ...base, connections: 1, durationS: opts.probeS, title: `token mint, 1 connection (${engine})` }) : null;
    return { loaded, unloaded };
  });
}

export async function runTokenMint(opts: BenchOptions): Promise<{ rows: BenchRow[]; raw: Record<string, LoadResult> }> {
  const rows: BenchRow[] = [];
  const raw: Record<string, LoadResult> = {};
  for (const engine of opts.engines) {
    const b = await bracketWithHello(opts, `${engine} mint`, () => mintOnce(engine, opts));
    raw[`mint-${engine}`] = b.value.loaded;
    rows.push(...helloRows(b, `${engine} mint`));
    const row = rowOf('token-mint', engine, 'POST …/token (cached)', b.value.loaded, b.helloThroughput, undefined, b.helloCpuUsPerReq);
    row.target = { text: `≥${MINT_TARGET.minRatio * 100}%`, pass: (row.ratio ?? 0) >= MINT_TARGET.minRatio && row.non2xx === 0 && row.errors === 0 };
    rows.push(row);
    if (b.value.unloaded) rows.push(rowOf('token-mint', engine, 'POST …/token, 1 conn (latency probe)', b.value.unloaded, null));
  }
  return { rows, raw };
}

async function main(): Promise<number> {
  const opts = await parseBenchOptions();
  const startedAt = new Date().toISOString();
  const { rows, raw } = await runTokenMint(opts);
  const report: BenchReport = {
    bench: 'token-mint',
    startedAt,
    host: hostInfo(),
    settings: { engines: opts.engines, durationS: opts.durationS, warmupS: opts.warmupS, probeS: opts.probeS, connections: opts.connections, seed: opts.seed },
    rows,
    raw,
    notes: [...opts.notes, 'every mint is audited in the same transaction (fail-closed)'],
  };
  emit(report, { json: opts.json, out: opts.out });
  return opts.strict && rows.some((r) => r.target && !r.target.pass) ? 1 : 0;
}

if (isMain(import.meta.url)) runMain(main);
