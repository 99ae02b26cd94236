/**
 * Profiles the Latchkey server process during a measured run: seeds, warms up, then
 * starts V8's CPU profiler in the server (over IPC) for exactly the load window, and
 * prints self/inclusive time by package, file and function, per request.
 *
 *   node --import tsx bench/profile.ts [--op read|write|mint] [--engine sqlite|postgres]
 *        [--duration 10] [--connections 50] [--dir /tmp/latchkey-profiles] [--top 30]
 *        [--mode v8|perf]
 *
 * --mode v8 (default) uses V8's sampling profiler: JS-level detail, but its samples are
 * wall-clock, so a syscall during which the process is descheduled (writev waking the
 * load generator, SQLite's fcntl) looks expensive. --mode perf runs `perf record` on the
 * server (started with --perf-basic-prof) and reports on-CPU time by library and symbol.
 * Either way the run also reports the server's real CPU µs per request (process.cpuUsage).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { authHeaders, connectionBody, createConnections, createIntegration, updateBody } from './lib/api.js';
import { formatSummary, summarizeProfile } from './lib/cpuprofile.js';
import { type LoadRequest, runLoad } from './lib/load.js';
import { isMain, runMain } from './lib/main.js';
import { type Engine, withServer } from './lib/servers.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      op: { type: 'string', default: 'read' },
      engine: { type: 'string', default: 'sqlite' },
      duration: { type: 'string' },
      connections: { type: 'string', default: '50' },
      seed: { type: 'string', default: '1000' },
      dir: { type: 'string', default: join(tmpdir(), 'latchkey-profiles') },
      top: { type: 'string', default: '30' },
      interval: { type: 'string', default: '100' },
      mode: { type: 'string', default: 'v8' },
    },
  });
  const mode = values.mode;
  if (mode !== 'v8' && mode !== 'perf') throw new Error('--mode must be v8 or perf');
  const engine = values.engine as Engine;
  const op = values.op;
  if (op !== 'read' && op !== 'write' && op !== 'mint') throw new Error('--op must be read, write or mint');
  const durationS = Number(values.duration ?? process.env.BENCH_DURATION ?? 10);
  const connections = Number(values.connections);
  mkdirSync(values.dir, { recursive: true });
  const file = join(values.dir, `latchkey-${op}-${engine}-${Date.now()}.${mode === 'v8' ? 'cpuprofile' : 'perf.data'}`);
  const nodeFlags = mode === 'perf' ? ['--perf-basic-prof-only-functions', '--interpreted-frames-native-stack'] : [];

  const result = await withServer('latchkey', engine, { nodeFlags }, async (server) => {
    let requests: LoadRequest[];
    if (op === 'read' || op === 'mint') {
      const ids = Array.from({ length: Number(values.seed) }, (_, i) => `conn-${String(i).padStart(6, '0')}`);
      await createIntegration(server, 'bench-read');
      await createConnections(server, 'bench-read', ids);
      // A mint of the connection's cached (stored, unexpired) access token.
      const paths = ids.map((id) => `/v1/integrations/bench-read/connections/${id}${op === 'mint' ? '/token' : ''}`);
      let next = 0;
      requests = [{ method: op === 'mint' ? 'POST' : 'GET', path: paths[0]!, headers: authHeaders(server), setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length]! }) }];
    } else {
      await createIntegration(server, 'bench-write');
      let n = 0;
      let rev = 0;
      requests = [
        {
          label: 'create',
          method: 'POST',
          path: '/v1/integrations/bench-write/connections',
          headers: authHeaders(server, true),
          setupRequest: (req, ctx) => {
            ctx.id = `p-${n++}`;
            return { ...req, body: JSON.stringify(connectionBody(String(ctx.id))) };
          },
        },
        {
          label: 'update',
          method: 'PATCH',
          path: '/',
          headers: authHeaders(server, true),
          setupRequest: (req, ctx) => ({ ...req, path: `/v1/integrations/bench-write/connections/${String(ctx.id)}`, body: JSON.stringify(updateBody(String(ctx.id), ++rev)) }),
        },
      ];
    }
    await runLoad({ url: server.url, connections, durationS: 2, requests, title: 'warm-up' });
    if (mode === 'v8') {
      await server.profileStart(Number(values.interval));
      const r = await runLoad({ server, url: server.url, connections, durationS, requests, title: `${op} (${engine}) profiled` });
      await server.profileStop(file);
      return r;
    }
    const perf = spawn('perf', ['record', '-F', '999', '-g', '-p', String(server.pid), '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    await new Promise((r) => setTimeout(r, 500));
    const r = await runLoad({ server, url: server.url, connections, durationS, requests, title: `${op} (${engine}) perf` });
    perf.kill('SIGINT');
    await new Promise((res) => perf.once('exit', res));
    return r;
  });
  process.stdout.write(
    `${op} on ${engine}: ${result.throughput.toFixed(0)} req/s, p50 ${result.overall.p50.toFixed(2)} ms, p99 ${result.overall.p99.toFixed(2)} ms, non-2xx ${result.non2xx}, ` +
      `server CPU ${result.serverCpuUsPerRequest?.toFixed(1)} µs/request (profiler on: expect some overhead)\n`,
  );
  if (mode === 'v8') {
    process.stdout.write(`${formatSummary(summarizeProfile(file, result.totalResponses, Number(values.top)))}\n\nprofile: ${file} (open in Chrome DevTools → Performance)\n`);
  } else {
    const report = (args: string[]) => execFileSync('perf', ['report', '-i', file, '--stdio', '-g', 'none', '--percent-limit', '0.5', ...args], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    const clean = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).slice(0, Number(values.top)).join('\n');
    process.stdout.write(`\non-CPU share by library (self):\n${clean(report(['--no-children', '--sort', 'dso']))}\n`);
    process.stdout.write(`\non-CPU share by symbol (self):\n${clean(report(['--no-children', '--sort', 'sym']))}\n`);
    process.stdout.write(`\non-CPU share by symbol (inclusive, frame-pointer stacks):\n${clean(report(['--children', '--sort', 'sym']))}\n`);
    process.stdout.write(`\nperf data: ${file} (perf report -i …)\n`);
  }
  return 0;
}

if (isMain(import.meta.url)) runMain(main);
