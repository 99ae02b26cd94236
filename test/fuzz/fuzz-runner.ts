/**
 * The contract fuzzer: starts Latchkey listening on 127.0.0.1, then sends fast-check
 * generated requests for every contract in the registry over real HTTP (raw paths, raw
 * bodies, any header) and checks each answer with test/fuzz/fuzz-oracle.ts, plus that a
 * refused write changed nothing and that no prototype was polluted. Used by
 * test/fuzz/contract-fuzz.test.ts (short) and `npm run fuzz` (long, scripts/fuzz.ts).
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import type { AnyContract } from '../../src/contracts/define.js';
import { type ContractCall, FIXTURES, dbSnapshot } from '../http/fixtures.js';
import { BOOTSTRAP_KEY, type EngineName, type TestServer, startTestServer } from '../support/harness.js';
import { type WireResponse, checkResponse } from './fuzz-oracle.js';
import type { Finding, FuzzSummary } from './fuzz-summary.js';
import { type Caller, type FuzzCase, type WireRequest, caseArbitrary, describeCase, wireRequest } from './fuzz-requests.js';

export { formatSummary } from './fuzz-summary.js';
export type { Finding, FuzzSummary } from './fuzz-summary.js';

export interface FuzzOptions {
  engine: EngineName;
  /** Stop after this long (the main bound). */
  seconds: number;
  /** Stop after this many cases, if sooner. */
  runs?: number | undefined;
  seed?: number | undefined;
  /** Progress lines (long runs). */
  log?: (line: string) => void;
}

const MAX_FINDINGS = 50;
const bump = (map: Record<string, number>, key: string) => void (map[key] = (map[key] ?? 0) + 1);

/**
 * One request on a fresh connection: a refused request may make the server close its
 * connection, and reusing one would blame the next request for that.
 */
function send(origin: URL, wire: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: origin.hostname, port: origin.port, method: wire.method, path: wire.path, headers: wire.headers, agent: false, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 1 << 20) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    if (wire.body !== undefined) req.end(wire.body);
    else req.end();
  });
}

/** The Node client refuses some requests itself (bad header characters, unescaped paths): not the server's doing. */
const isClientRefusal = (error: unknown) => /^ERR_(INVALID_CHAR|UNESCAPED_CHARACTERS|INVALID_HTTP_TOKEN|HTTP_INVALID_HEADER_VALUE|INVALID_ARG_VALUE)$/.test(String((error as { code?: string }).code));

const polluted = () => {
  const probe = {} as Record<string, unknown>;
  return probe.polluted !== undefined || probe.isAdmin !== undefined;
};

/** Runs the fuzzer against a fresh server and returns what it saw. */
export async function runContractFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const seed = opts.seed ?? Date.now() % 2 ** 31;
  const s: TestServer = await startTestServer({
    engine: opts.engine,
    // Short outbound timeouts (fixtures point at real provider hosts the sandbox cannot reach),
    // and no background workers, so only the fuzzer's own requests change the database.
    config: { testTimeoutMs: 1_000, oauthTimeoutMs: 1_000, refreshSweepMs: 0, webhookDispatcher: false },
  });
  try {
    const origin = new URL(await s.lk.app.listen({ host: '127.0.0.1', port: 0 }));
    const keys: Record<Caller, string> = {
      admin: BOOTSTRAP_KEY,
      operator: await s.newKey('operator'),
      runtime: await s.newKey('runtime'),
      viewer: await s.newKey('viewer'),
      'other-tenant': (await s.newTenant('Fuzz other tenant')).adminKey,
    };
    const contracts: AnyContract[] = s.lk.registry.contracts();
    const withoutFixture = contracts.filter((c) => !FIXTURES[c.meta.key]).map((c) => c.meta.key);

    // One valid call per contract, made on first use and again after a successful delete used it up.
    const bases = new Map<string, ContractCall | null>();
    const baseFor = async (contract: AnyContract): Promise<ContractCall | null> => {
      if (bases.has(contract.meta.key)) return bases.get(contract.meta.key)!;
      const fixture = FIXTURES[contract.meta.key];
      let base: ContractCall | null = null;
      if (fixture) {
        try {
          base = await fixture({ s, adminKey: BOOTSTRAP_KEY });
        } catch (error) {
          opts.log?.(`fuzz: fixture of ${contract.meta.key} failed (${(error as Error).message.slice(0, 200)}); schema-derived cases only`);
        }
      }
      bases.set(contract.meta.key, base);
      return base;
    };

    const summary: FuzzSummary = {
      engine: opts.engine,
      seed,
      cases: 0,
      elapsedMs: 0,
      unsendable: 0,
      byStatus: {},
      byRecipe: {},
      byContract: {},
      successes: {},
      stateChecks: 0,
      contractsWithoutFixture: withoutFixture,
      findings: [],
    };
    // One finding per (kind, message, contract, status): a bug found 200 times is still one bug.
    const seen = new Set<string>();
    const record = (finding: Finding) => {
      const id = `${finding.kind}|${finding.message}|${finding.case.split(' ')[0]}|${finding.status}`;
      if (seen.has(id)) return;
      seen.add(id);
      if (summary.findings.length < MAX_FINDINGS) summary.findings.push(finding);
      opts.log?.(`fuzz: FINDING ${finding.kind}: ${finding.message} — ${finding.case} ${finding.method} ${finding.path.slice(0, 200)} → ${finding.status}`);
    };

    const arbitrary = fc.oneof(...contracts.map((c) => caseArbitrary(c, FIXTURES[c.meta.key] !== undefined)));
    const started = Date.now();
    let lastLog = started;

    const runCase = async (fuzz: FuzzCase): Promise<void> => {
      const { contract } = fuzz;
      const base = await baseFor(contract);
      const wire = wireRequest(fuzz, base, { authorization: `Bearer ${keys[fuzz.caller]}` });
      const write = contract.http.method !== 'GET';
      const before = write ? JSON.stringify(await dbSnapshot(s)) : null;
      let res: WireResponse;
      try {
        res = await send(origin, wire);
      } catch (error) {
        if (isClientRefusal(error)) {
          summary.unsendable++;
          return;
        }
        record({ kind: 'no_response', message: (error as Error).message, case: describeCase(fuzz), method: wire.method, path: wire.path, status: null, body: '' });
        return;
      }
      summary.cases++;
      bump(summary.byStatus, String(res.status));
      bump(summary.byRecipe, fuzz.recipe.kind);
      bump(summary.byContract, contract.meta.key);
      if (res.status < 300) bump(summary.successes, contract.meta.key);
      const where = { case: describeCase(fuzz), method: wire.method, path: wire.path, status: res.status, body: res.text.slice(0, 500) };
      for (const problem of checkResponse(res)) record({ ...problem, ...where });
      if (before !== null && res.status >= 400 && res.status < 500) {
        summary.stateChecks++;
        if (JSON.stringify(await dbSnapshot(s)) !== before) record({ kind: 'state_changed', message: `a refused ${wire.method} (HTTP ${res.status}) changed the database`, ...where });
      }
      if (res.status < 300 && contract.http.method === 'DELETE') bases.delete(contract.meta.key);
      if (polluted()) record({ kind: 'prototype_polluted', message: 'Object.prototype gained a property', ...where });
      if (opts.log && Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        opts.log(`fuzz: ${summary.cases} cases in ${((lastLog - started) / 1000).toFixed(0)} s, ${summary.findings.length} findings`);
      }
    };

    const outcome = await fc.check(
      fc.asyncProperty(arbitrary, async (fuzz) => {
        await runCase(fuzz);
        return true;
      }),
      { seed, numRuns: opts.runs ?? 1_000_000_000, interruptAfterTimeLimit: opts.seconds * 1000, markInterruptAsFailure: false, endOnFailure: true },
    );
    // The property only returns true: a failure here is the fuzzer itself throwing.
    if (outcome.failed) throw new Error(`the fuzzer failed (seed ${seed}): ${String(outcome.errorInstance ?? 'unknown error')}`);

    // Still alive and still answering after everything it was sent.
    const health = await send(origin, { method: 'GET', path: '/healthz', headers: {} }).catch(() => null);
    if (health?.status !== 200) record({ kind: 'server_down', message: 'GET /healthz did not answer 200 after the run', case: '-', method: 'GET', path: '/healthz', status: health?.status ?? null, body: health?.text ?? '' });
    summary.elapsedMs = Date.now() - started;
    return summary;
  } finally {
    await s.close();
  }
}
