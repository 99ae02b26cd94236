/**
 * Write-path benchmark: each autocannon connection loops POST connection → PATCH that
 * connection (new metadata, rotated access token; the refresh token carries forward), at
 * 50 connections, against hello-world measured right before it in the same run. Every
 * create and update is a transaction with its audit event (hash chain) and encrypted
 * secrets. With --isolated it also measures create-only and update-only runs.
 *
 *   node --import tsx bench/create-update.ts [--engine sqlite|postgres|both] [--isolated]
 *        [--duration 10] [--json] [--out file.json] [--cpu-prof dir]
 */
import { randomBytes } from 'node:crypto';
import { authHeaders, connectionBody, createIntegration, updateBody } from './lib/api.js';
import type { SectionResult } from './connection-read.js';
import { bracketWithHello, helloRows } from './lib/hello.js';
import { type LoadRequest, type LoadResult, runLoad } from './lib/load.js';
import { isMain, runMain } from './lib/main.js';
import { type BenchOptions, hostInfo, parseBenchOptions } from './lib/options.js';
import { type BenchReport, type BenchRow, emit, rowOf } from './lib/report.js';
import { type Engine, type ServerHandle, withServer } from './lib/servers.js';

const KEY = 'bench-write';

/** POST with a fresh id per request; the id goes into the sequence context. */
function createRequest(server: ServerHandle, label: string, newId: () => string, created?: string[]): LoadRequest {
  return {
    label,
    method: 'POST',
    path: `/v1/integrations/${KEY}/connections`,
    headers: authHeaders(server, true),
    setupRequest: (req, context) => {
      const id = newId();
      context.id = id;
      return { ...req, body: JSON.stringify(connectionBody(id)) };
    },
    onResponse: (status, _body, context) => {
      context.created = status === 201;
      if (status === 201 && created) created.push(String(context.id));
    },
  };
}

/** PATCH of the connection chosen by `pick` (or the one just created in this sequence). */
function updateRequest(server: ServerHandle, label: string, pick?: () => string): LoadRequest {
  let rev = 0;
  return {
    label,
    method: 'PATCH',
    path: `/v1/integrations/${KEY}/connections/x`,
    headers: authHeaders(server, true),
    setupRequest: (req, context) => {
      let id: string;
      if (pick) id = pick();
      else if (context.created === true) id = String(context.id);
      else return null; // the create failed: restart the sequence
      return { ...req, path: `/v1/integrations/${KEY}/connections/${id}`, body: JSON.stringify(updateBody(id, ++rev)) };
    },
  };
}

async function writeOnce(engine: Engine, opts: BenchOptions, isolated: boolean): Promise<Record<string, LoadResult>> {
  return withServer('latchkey', engine, { cpuProfDir: opts.cpuProfDir }, async (server) => {
    await createIntegration(server, KEY);
    const run = randomBytes(3).toString('hex');
    let counter = 0;
    const newId = (prefix: string) => () => `${prefix}-${run}-${String(counter++).padStart(7, '0')}`;
    const loop = (durationS: number, title: string) =>
      runLoad({
        server,
        url: server.url,
        connections: opts.connections,
        durationS,
        title,
        requests: [createRequest(server, 'create', newId('w')), updateRequest(server, 'update')],
      });
    const out: Record<string, LoadResult> = {};
    if (opts.warmupS > 0) await loop(opts.warmupS, `create+update warm-up (${engine})`);
    process.stderr.write(`bench: ${engine}: create+update loop ${opts.durationS}s @ ${opts.connections} connections…\n`);
    out.loop = await loop(opts.durationS, `create+update loop (${engine})`);
    if (isolated) {
      const created: string[] = [];
      process.stderr.write(`bench: ${engine}: create only ${opts.durationS}s…\n`);
      out.create = await runLoad({
        server,
        url: server.url,
        connections: opts.connections,
        durationS: opts.durationS,
        title: `create only (${engine})`,
        requests: [createRequest(server, 'create', newId('c'), created)],
      });
      // Round-robin over what was just created: requests in flight never share a row.
      let i = 0;
      process.stderr.write(`bench: ${engine}: update only ${opts.durationS}s over ${created.length} connections…\n`);
      out.update = await runLoad({
        server,
        url: server.url,
        connections: opts.connections,
        durationS: opts.durationS,
        title: `update only (${engine})`,
        requests: [updateRequest(server, 'update', () => created[i++ % created.length]!)],
      });
    }
    return out;
  });
}

/** Runs the write benchmark on each engine, each right after its own hello-world baseline. */
export async function runCreateUpdate(opts: BenchOptions, isolated = false): Promise<SectionResult> {
  const rows: BenchRow[] = [];
  const raw: Record<string, LoadResult> = {};
  for (const engine of opts.engines) {
    const b = await bracketWithHello(opts, `${engine} write`, () => writeOnce(engine, opts, isolated));
    const results = b.value;
    raw[`hello-before-write-${engine}`] = b.before;
    raw[`hello-after-write-${engine}`] = b.after;
    rows.push(...helloRows(b, `${engine} write`));
    const loop = results.loop!;
    raw[`write-loop-${engine}`] = loop;
    rows.push(rowOf('create-update', engine, 'loop: POST connection', loop, b.helloThroughput, 'create'));
    rows.push(rowOf('create-update', engine, 'loop: PATCH connection', loop, b.helloThroughput, 'update'));
    rows.push(rowOf('create-update', engine, 'loop: both ops together', loop, b.helloThroughput, undefined, b.helloCpuUsPerReq));
    if (results.create) {
      raw[`write-create-${engine}`] = results.create;
      rows.push(rowOf('create-update', engine, 'isolated: POST connection', results.create, b.helloThroughput, undefined, b.helloCpuUsPerReq));
    }
    if (results.update) {
      raw[`write-update-${engine}`] = results.update;
      rows.push(rowOf('create-update', engine, 'isolated: PATCH connection', results.update, b.helloThroughput, undefined, b.helloCpuUsPerReq));
    }
  }
  return { rows, raw };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const isolated = argv.includes('--isolated') || process.env.BENCH_ISOLATED === '1';
  const opts = await parseBenchOptions(argv.filter((a) => a !== '--isolated'));
  const startedAt = new Date().toISOString();
  const { rows, raw } = await runCreateUpdate(opts, isolated);
  const report: BenchReport = {
    bench: 'create-update',
    startedAt,
    host: hostInfo(),
    settings: { engines: opts.engines, durationS: opts.durationS, warmupS: opts.warmupS, connections: opts.connections, isolated },
    rows,
    raw,
    notes: [...opts.notes, 'loop rows: each autocannon connection runs POST then PATCH of the same connection (completed pairs/s = the PATCH req/s); "vs hello" is per op'],
  };
  emit(report, { json: opts.json, out: opts.out });
  return 0;
}

if (isMain(import.meta.url)) runMain(main);
