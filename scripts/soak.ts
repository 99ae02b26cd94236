/**
 * Soak run: mixed traffic at a fixed rate against a Latchkey server process, with OAuth
 * connections refreshing for real against a local oidc-provider.
 *
 *   npm run soak -- [--minutes 5] [--rate 40] [--engine sqlite|postgres] [--window 10]
 *
 * Mix: 50 % connection reads, 25 % token mints (tokens live 30 s and refresh 10 s before
 * expiry, so every connection refreshes every ~20 s), 15 % metadata updates, 10 % live
 * connection tests against a loopback upstream. Every window prints requests, errors, p50 and
 * p99 and the server's resident memory. Fails (exit 1) on any error (an HTTP error, a live test
 * that answers `ok: false`, or a request over 10 s), or when memory keeps
 * growing: the last third of the windows averages more than 25 % above the first third
 * (after the first window, which includes warm-up).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/harness.js';
import { browse, startOAuthServer } from '../test/support/oauth-server.js';
import { spawnServer } from '../bench/lib/servers.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    rate: { type: 'string', default: '40' },
    engine: { type: 'string', default: 'sqlite' },
    window: { type: 'string', default: '10' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const windowS = Number(values.window);
const engine = values.engine === 'postgres' ? 'postgres' : 'sqlite';
/** A request that takes longer than this counts as an error (and cannot stall the soak). */
const REQUEST_TIMEOUT_MS = 10_000;
if (!(minutes > 0) || !(rate > 0) || !(windowS > 0)) throw new Error('--minutes, --rate and --window must be positive numbers');

const rssOf = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.replace(/\D+/g, '')) / 1024 : NaN;
};
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0);

async function main(): Promise<number> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const as = await startOAuthServer({ redirectUri: `${publicUrl}/oauth/callback`, accessTokenTtl: 30 });
  const upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const server = await spawnServer('latchkey', engine, {
    env: { BENCH_PORT: String(port), BENCH_ALLOW_PRIVATE_NETWORKS: '1', BENCH_REFRESH_MARGIN_MS: '10000' },
  });
  const auth = { authorization: `Bearer ${server.adminKey}` };
  const api = async (method: string, path: string, body?: unknown) => {
    const init = body === undefined ? { method, headers: auth } : { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) };
    // A hung request is an error, not a stalled soak: each one gets REQUEST_TIMEOUT_MS.
    const res = await fetch(`${server.url}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  try {
    const must = async (what: string, p: Promise<{ status: number; body: any }>) => {
      const res = await p;
      if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await must('oauth integration', api('POST', '/v1/integrations', {
      key: 'soak-oauth', provider: 'oauth2', displayName: 'Soak OAuth', authMethod: 'oauth2',
      config: { authorizationUrl: as.authorizationUrl, tokenUrl: as.tokenUrl, baseUrl: `${as.issuer}/api`, defaultScopes: 'read write', clientId: as.clientId },
      secrets: { clientSecret: as.clientSecret },
    }));
    await must('http integration', api('POST', '/v1/integrations', {
      key: 'soak-http', provider: 'http', displayName: 'Soak HTTP', authMethod: 'api_key', config: { baseUrl: upstreamUrl, authHeader: 'X-Api-Key', testPath: '/health' },
    }));
    const oauthIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `oauth-${i}`;
      const session = await must('connect session', api('POST', '/v1/connect/sessions', { integration: 'soak-oauth', connectionId: id, redirectUrl: 'https://app.example.test/done' }));
      const landed = await browse(session.connectUrl, 'https://app.example.test/done');
      if (landed.searchParams.get('status') !== 'success') throw new Error(`connect flow failed: ${landed}`);
      oauthIds.push(id);
    }
    const httpIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      await must('http connection', api('POST', '/v1/integrations/soak-http/connections', { id: `http-${i}`, credentials: { type: 'api_key', apiKey: `soak-key-${i}` } }));
      httpIds.push(`http-${i}`);
    }

    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
    // [share, name, run, answered well?]: a live test answers 200 with `ok: false` when it fails.
    const operations: [number, string, () => Promise<{ status: number; body: any }>, ((body: any) => boolean)?][] = [
      [0.5, 'read', () => api('GET', `/v1/integrations/soak-http/connections/${pick(httpIds)}`)],
      [0.25, 'mint', () => api('POST', `/v1/integrations/soak-oauth/connections/${pick(oauthIds)}/token`)],
      [0.15, 'update', () => api('PATCH', `/v1/integrations/soak-http/connections/${pick(httpIds)}`, { metadata: { at: Date.now() } })],
      [0.1, 'test', () => api('POST', `/v1/integrations/soak-http/connections/${pick(httpIds)}/test`), (body) => body?.ok === true],
    ];
    const choose = () => {
      let r = Math.random();
      for (const op of operations) if ((r -= op[0]) <= 0) return op;
      return operations[0]!;
    };

    process.stderr.write(`soak: ${engine}, ${rate} req/s for ${minutes} min, windows of ${windowS} s\n`);
    console.log('window  requests  errors  p50 ms  p99 ms  rss MB  refreshes');
    const windows: { errors: number; p99: number; rss: number }[] = [];
    const errorsSeen: string[] = [];
    const count = Math.max(1, Math.round((minutes * 60) / windowS));
    let inflight = 0;
    for (let w = 1; w <= count; w++) {
      const windowEnd = Date.now() + windowS * 1000;
      const latencies: number[] = [];
      let errors = 0;
      const refreshesBefore = as.tokenRequests.filter((t) => t.grantType === 'refresh_token').length;
      const pending: Promise<void>[] = [];
      for (let next = Date.now(); next < windowEnd; next += 1000 / rate) {
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const [, name, run, answeredWell] = choose();
        const started = performance.now();
        inflight++;
        pending.push(
          run()
            .then((res) => {
              if (res.status >= 300) {
                errors++;
                if (errorsSeen.length < 10) errorsSeen.push(`${name}: HTTP ${res.status}`);
              } else if (answeredWell && !answeredWell(res.body)) {
                errors++;
                if (errorsSeen.length < 10) errorsSeen.push(`${name}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
              }
            })
            .catch((e: unknown) => {
              errors++;
              if (errorsSeen.length < 10) errorsSeen.push(`${name}: ${(e as Error).message}`);
            })
            .finally(() => {
              inflight--;
              latencies.push(performance.now() - started);
            }),
        );
      }
      await Promise.all(pending);
      latencies.sort((a, b) => a - b);
      const rss = rssOf(server.pid);
      const refreshes = as.tokenRequests.filter((t) => t.grantType === 'refresh_token').length - refreshesBefore;
      const p99 = percentile(latencies, 99);
      windows.push({ errors, p99, rss });
      console.log(`${String(w).padStart(6)}  ${String(latencies.length).padStart(8)}  ${String(errors).padStart(6)}  ${percentile(latencies, 50).toFixed(1).padStart(6)}  ${p99.toFixed(1).padStart(6)}  ${rss.toFixed(0).padStart(6)}  ${String(refreshes).padStart(9)}`);
    }
    void inflight;
    const totalErrors = windows.reduce((n, w) => n + w.errors, 0);
    const steady = windows.slice(1);
    const third = Math.max(1, Math.floor(steady.length / 3));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const early = mean(steady.slice(0, third).map((w) => w.rss));
    const late = mean(steady.slice(-third).map((w) => w.rss));
    const growth = steady.length >= 3 ? (late - early) / early : 0;
    console.log(`\nerrors: ${totalErrors}; memory: ${early.toFixed(0)} MB early → ${late.toFixed(0)} MB late (${(growth * 100).toFixed(1)} %); worst p99 ${Math.max(...windows.map((w) => w.p99)).toFixed(1)} ms`);
    if (errorsSeen.length) console.log(`first errors: ${errorsSeen.join('; ')}`);
    const leak = growth > 0.25;
    if (steady.length < 3) console.log('note: fewer than 4 windows, so no memory trend was judged; run longer for that');
    console.log(totalErrors === 0 && !leak ? 'PASS' : `FAIL${totalErrors ? ' (errors)' : ''}${leak ? ' (memory keeps growing)' : ''}`);
    return totalErrors === 0 && !leak ? 0 : 1;
  } finally {
    await server.stop();
    await as.close();
    upstream.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
