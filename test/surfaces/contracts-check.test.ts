/**
 * Contract governance: the committed snapshot matches the registry, and deliberately
 * broken variants of a stable contract are caught unless the major version goes up.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AnyContract, Stability } from '../../src/contracts/define.js';
import { ALL_CONTRACTS, STREAMING_CONTRACTS } from '../../src/contracts/index.js';
import { ProxyRequest, type StreamingContract } from '../../src/contracts/integrations/proxy-contract.js';
import { CreateIntegration, GetIntegration, ListIntegrations, UpdateIntegration } from '../../src/contracts/integrations/integration-contracts.js';
import { IntegrationRecord } from '../../src/contracts/integrations/records.js';
import { RevealConnection } from '../../src/contracts/integrations/reveal-contract.js';
import { policy } from '../../src/contracts/policies.js';
import {
  type ComparisonReport,
  type RegistrySnapshot,
  compareSnapshots,
  diffSchemas,
  formatReport,
  parseSemver,
  parseSnapshot,
  serializeSnapshot,
  snapshotOf,
} from '../../src/surfaces/governance/index.js';

const run = promisify(execFile);

/** A copy of a contract with some parts replaced. */
function variant(base: AnyContract, change: { version?: string; stability?: Stability; input?: z.ZodType; output?: z.ZodType; http?: Partial<AnyContract['http']>; policies?: AnyContract['policy']['policies'] }): AnyContract {
  return {
    ...base,
    meta: { ...base.meta, version: change.version ?? base.meta.version, stability: change.stability ?? base.meta.stability },
    io: { ...base.io, input: change.input ?? base.io.input, output: change.output ?? base.io.output },
    http: { ...base.http, ...change.http },
    policy: { ...base.policy, policies: change.policies ?? base.policy.policies },
  };
}

const stable = (c: AnyContract, version = '1.0.0') => variant(c, { stability: 'stable', version });
const compare = (before: AnyContract[], after: AnyContract[]): ComparisonReport => compareSnapshots(snapshotOf(before), snapshotOf(after));
const messages = (report: ComparisonReport) => report.changes.map((c) => `${c.severity} ${c.path}: ${c.message}`);

const CreateInput = CreateIntegration.io.input as unknown as z.ZodObject;
const GetInput = GetIntegration.io.input as unknown as z.ZodObject;

/** Breaking changes to a stable contract, each with what the report must say. */
const BREAKING: { name: string; base: AnyContract; change: Parameters<typeof variant>[1]; expect: RegExp }[] = [
  { name: 'removed output field', base: GetIntegration, change: { output: IntegrationRecord.omit({ description: true }) }, expect: /output\.description: removed output field/ },
  {
    name: 'removed input field',
    base: CreateIntegration,
    change: { input: CreateInput.omit({ allowReveal: true }) },
    expect: /input\.allowReveal: removed input field/,
  },
  {
    name: 'enum lost a value (input)',
    base: CreateIntegration,
    change: { input: CreateInput.extend({ scope: z.enum(['global', 'workspace']).default('global') }) },
    expect: /input\.scope: enum lost "user"/,
  },
  {
    name: 'output type changed',
    base: GetIntegration,
    change: { output: IntegrationRecord.extend({ version: z.string() }) },
    expect: /output\.version: may now return string/,
  },
  {
    name: 'output field became nullable',
    base: GetIntegration,
    change: { output: IntegrationRecord.extend({ displayName: z.string().nullable() }) },
    expect: /output\.displayName: may now return null/,
  },
  {
    name: 'output enum gained a value',
    base: GetIntegration,
    change: { output: IntegrationRecord.extend({ scope: z.enum(['global', 'workspace', 'user', 'team']) }) },
    expect: /output\.scope: enum gained "team"/,
  },
  {
    name: 'input type narrowed',
    base: ListIntegrations,
    change: { input: (ListIntegrations.io.input as unknown as z.ZodObject).extend({ enabled: z.boolean().optional() }) },
    expect: /input\.enabled: no longer accepts string/,
  },
  { name: 'new required input field', base: GetIntegration, change: { input: GetInput.extend({ tenant: z.string() }) }, expect: /input\.tenant: new required input field/ },
  {
    name: 'optional input field became required',
    base: CreateIntegration,
    change: { input: CreateInput.extend({ description: z.string().max(500) }) },
    expect: /input\.description: input field became required/,
  },
  {
    name: 'input constraint tightened',
    base: CreateIntegration,
    change: { input: CreateInput.extend({ displayName: z.string().trim().min(1).max(50) }) },
    expect: /input\.displayName: maxLength tightened from 100 to 50/,
  },
  { name: 'changed HTTP method', base: GetIntegration, change: { http: { method: 'POST' } }, expect: /http\.method: HTTP method changed from GET to POST/ },
  { name: 'changed HTTP path', base: GetIntegration, change: { http: { path: '/v2/integrations/{key}' } }, expect: /http\.path: HTTP path changed/ },
  { name: 'removed query parameter', base: ListIntegrations, change: { http: { query: ['limit', 'cursor'] } }, expect: /http\.query: query parameter enabled removed/ },
  {
    name: 'input field no longer read from its header',
    base: RevealConnection,
    change: { http: { headers: {} } },
    expect: /http\.headers: input field reason is no longer read from the x-reveal-reason header/,
  },
  {
    name: 'input field moved to another header',
    base: RevealConnection,
    change: { http: { headers: { reason: 'X-Audit-Reason' } } },
    expect: /http\.headers: input field reason moved from the x-reveal-reason header to x-audit-reason/,
  },
  {
    name: 'existing input field now read from a header',
    base: CreateIntegration,
    change: { http: { headers: { description: 'X-Description' } } },
    expect: /http\.headers: input field description is now read from the x-description header, no longer from the body or query/,
  },
  {
    name: 'Idempotency-Key no longer honoured',
    base: CreateIntegration,
    change: { http: { idempotencyKey: false } },
    expect: /http\.idempotencyKey: no longer honours Idempotency-Key/,
  },
  {
    name: 'If-Match no longer honoured',
    base: UpdateIntegration,
    change: { http: { ifMatch: undefined } },
    expect: /http\.ifMatch: no longer honours If-Match/,
  },
  {
    name: 'new required policy',
    base: GetIntegration,
    change: { policies: [policy('platform.integration.read'), policy('platform.audit.read')] },
    expect: /policy: now also requires policy platform\.audit\.read@1\.0\.0/,
  },
];

describe('contract governance', () => {
  it('the committed snapshot (contracts/snapshot.json) matches the registry: run `npm run contracts:snapshot`', () => {
    const committed = readFileSync(new URL('../../contracts/snapshot.json', import.meta.url), 'utf8');
    expect(committed).toBe(serializeSnapshot(snapshotOf(ALL_CONTRACTS, STREAMING_CONTRACTS)));
    expect(Object.keys(parseSnapshot(committed).contracts).sort()).toEqual(ALL_CONTRACTS.map((c) => c.meta.key).sort());
    expect(Object.keys(parseSnapshot(committed).streaming ?? {}).sort()).toEqual(STREAMING_CONTRACTS.map((c) => c.meta.key).sort());
  });

  it('CHANGELOG.md names every operation of the registry', () => {
    const changelog = readFileSync(new URL('../../CHANGELOG.md', import.meta.url), 'utf8');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    const missing = ALL_CONTRACTS.map((c) => c.meta.key).filter((key) => !changelog.includes(`\`${key}\``));
    expect(missing, 'add these operations to CHANGELOG.md').toEqual([]);
  });

  it('an unchanged registry has no changes', () => {
    const report = compare([...ALL_CONTRACTS], [...ALL_CONTRACTS]);
    expect(report).toEqual({ changes: [], violations: [], warnings: [] });
  });

  describe.each(BREAKING)('$name', ({ base, change, expect: pattern }) => {
    it('fails on a stable contract without a major bump, naming the change', () => {
      const report = compare([stable(base)], [stable(variant(base, change), '1.1.0')]);
      expect(report.violations, messages(report).join('\n')).toHaveLength(1);
      expect(report.violations[0]!.changes.map((c) => `${c.path}: ${c.message}`).join('\n')).toMatch(pattern);
      expect(report.violations[0]!.message).toMatch(/need a major version bump \(to 2\.0\.0\)/);
    });

    it('passes with a major bump, and on a non-stable contract, still reporting the change', () => {
      const bumped = compare([stable(base)], [stable(variant(base, change), '2.0.0')]);
      expect(bumped.violations).toEqual([]);
      expect(messages(bumped).join('\n')).toMatch(pattern);
      for (const stability of ['experimental', 'beta'] as const) {
        const free = compare([variant(base, { stability })], [variant(base, { ...change, stability })]);
        expect(free.violations).toEqual([]);
        expect(messages(free).join('\n')).toMatch(pattern);
        expect(free.warnings.join('\n')).toMatch(/kept version 1\.0\.0/);
      }
    });
  });

  it('accepts compatible changes to a stable contract: new optional input, new output field, widened enum, looser bound', () => {
    const after = variant(CreateIntegration, {
      version: '1.1.0',
      input: CreateInput.extend({
        note: z.string().optional(),
        scope: z.enum(['global', 'workspace', 'user', 'team']).default('global'),
        displayName: z.string().trim().min(1).max(200),
      }),
      output: IntegrationRecord.extend({ lastUsedAt: z.string().nullable() }),
      http: { aliases: ['/v1/integration-definitions'] },
    });
    const report = compare([stable(CreateIntegration)], [stable(after, '1.1.0')]);
    expect(report.violations, messages(report).join('\n')).toEqual([]);
    expect(messages(report)).toEqual(
      expect.arrayContaining([
        'compatible input.note: new optional input field',
        'compatible input.scope: enum gained "team"',
        'compatible input.displayName: maxLength loosened from 100 to 200',
        'compatible output.lastUsedAt: new output field',
        'compatible http.aliases: HTTP alias /v1/integration-definitions added',
      ]),
    );
  });

  it('records header fields and Idempotency-Key in the snapshot; a header for a new field and honouring the key are compatible', () => {
    const snapshot = snapshotOf(ALL_CONTRACTS).contracts;
    expect(snapshot['integrations.connection.reveal']!.http).toMatchObject({ headers: { reason: 'x-reveal-reason' }, idempotencyKey: false });
    expect(snapshot['integrations.integration.create']!.http).toMatchObject({ headers: {}, idempotencyKey: true });
    expect(snapshot['integrations.integration.get']!.http.idempotencyKey).toBe(false);

    const refusing = variant(CreateIntegration, { http: { idempotencyKey: false } });
    const withHeader = variant(CreateIntegration, { input: CreateInput.extend({ note: z.string().optional() }), http: { headers: { note: 'X-Note' } } });
    const report = compare([stable(refusing)], [stable(withHeader, '1.1.0')]);
    expect(report.violations, messages(report).join('\n')).toEqual([]);
    expect(messages(report)).toEqual(
      expect.arrayContaining(['compatible http.idempotencyKey: now honours Idempotency-Key', 'compatible http.headers: new input header x-note (field note)', 'compatible input.note: new optional input field']),
    );
    // Header names are case-insensitive in HTTP: only the spelling changed, nothing to report.
    const respelled = variant(RevealConnection, { http: { headers: { reason: 'x-REVEAL-reason' } } });
    expect(compare([stable(RevealConnection)], [stable(respelled)]).changes).toEqual([]);
  });

  it('compares header fields and Idempotency-Key only when both snapshots recorded them (older snapshots did not)', () => {
    const before = snapshotOf([stable(RevealConnection)]);
    const after = snapshotOf([stable(variant(RevealConnection, { http: { headers: {} } }))]);
    after.contracts['integrations.connection.reveal']!.http.idempotencyKey = true;
    delete before.contracts['integrations.connection.reveal']!.http.headers;
    delete before.contracts['integrations.connection.reveal']!.http.idempotencyKey;
    expect(compareSnapshots(before, after).changes).toEqual([]);
  });

  it('governs the streaming operations too: a method no longer forwarded or a new policy breaks a stable proxy', () => {
    const streaming = (c: StreamingContract, change: { version?: string; stability?: 'stable' | 'beta'; methods?: StreamingContract['http']['methods']; policies?: StreamingContract['policy']['policies'] }): StreamingContract => ({
      ...c,
      meta: { ...c.meta, version: change.version ?? c.meta.version, stability: change.stability ?? c.meta.stability },
      http: { ...c.http, methods: change.methods ?? c.http.methods },
      policy: { ...c.policy, policies: change.policies ?? c.policy.policies },
    });
    const judge = (before: StreamingContract[], after: StreamingContract[]) => compareSnapshots(snapshotOf([], before), snapshotOf([], after));
    const stableProxy = streaming(ProxyRequest, { stability: 'stable' });
    const noOptions = judge([stableProxy], [streaming(stableProxy, { version: '1.1.0', methods: ProxyRequest.http.methods.filter((m) => m !== 'OPTIONS') })]);
    expect(noOptions.violations[0]!.changes.map((c) => `${c.path}: ${c.message}`)).toEqual(['http.methods: no longer forwards OPTIONS']);
    const stricter = judge([stableProxy], [streaming(stableProxy, { version: '1.1.0', policies: [...ProxyRequest.policy.policies, policy('platform.audit.read')] })]);
    expect(stricter.violations[0]!.message).toMatch(/integrations\.proxy is stable at 1\.0\.0: 1 breaking change/);
    expect(judge([stableProxy], [streaming(stableProxy, { version: '2.0.0', methods: ['GET'] })]).violations).toEqual([]);
    expect(judge([stableProxy], []).violations[0]!.message).toMatch(/was stable and is removed/);
    expect(messages(judge([], [ProxyRequest]))).toEqual(['compatible integrations.proxy: new experimental operation GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS /v1/proxy/{key}/{id}/{path} (streaming)']);
    // A snapshot from before streaming operations were recorded reports the proxy as new, never as a violation.
    expect(compareSnapshots(snapshotOf(ALL_CONTRACTS), snapshotOf(ALL_CONTRACTS, STREAMING_CONTRACTS)).violations).toEqual([]);
  });

  it('refuses removing a stable operation, allows removing a deprecated one, reports new ones', () => {
    const removed = compare([stable(GetIntegration), ListIntegrations], [ListIntegrations]);
    expect(removed.violations.map((v) => v.message).join('\n')).toMatch(/was stable and is removed; deprecate it first/);
    const deprecated = compare([variant(GetIntegration, { stability: 'deprecated' })], []);
    expect(deprecated.violations).toEqual([]);
    expect(messages(deprecated)).toEqual(['breaking integrations.integration.get: operation removed (was deprecated 1.0.0)']);
    const added = compare([], [GetIntegration]);
    expect(added.violations).toEqual([]);
    expect(messages(added)).toEqual(['compatible integrations.integration.get: new experimental operation GET /v1/integrations/{key}']);
  });

  it('refuses lowering a stable contract to beta, and a version that goes down', () => {
    const lowered = compare([stable(GetIntegration)], [variant(GetIntegration, { stability: 'beta', version: '1.1.0' })]);
    expect(lowered.violations[0]!.changes.map((c) => c.message)).toEqual(['stability changed from stable to beta']);
    expect(compare([stable(GetIntegration), stable(ListIntegrations)], [stable(GetIntegration, '2.0.0'), stable(ListIntegrations)]).violations).toEqual([]);
    const down = compare([variant(GetIntegration, { version: '1.2.0' })], [variant(GetIntegration, { version: '1.1.0' })]);
    expect(down.violations.map((v) => v.message)).toEqual(['integrations.integration.get: version went down from 1.2.0 to 1.1.0']);
    expect(compare([GetIntegration], [variant(GetIntegration, { version: 'one' })]).violations[0]!.message).toMatch(/not semver/);
  });

  it('moving to deprecated is allowed; description-only changes are info', () => {
    const described = variant(GetIntegration, { output: IntegrationRecord.extend({ uid: z.string().describe('Another text') }) });
    const report = compare([stable(GetIntegration)], [variant(described, { stability: 'deprecated', version: '1.0.1' })]);
    expect(report.violations).toEqual([]);
    expect(report.changes.map((c) => c.severity).sort()).toEqual(['info', 'info']);
  });

  it('diffs schemas structurally: records, arrays, unions, integer vs number', () => {
    const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as never;
    expect(diffSchemas(schema(z.record(z.string(), z.string())), schema(z.record(z.string(), z.number())), 'input').map((c) => c.message)).toEqual([
      'no longer accepts string',
      'now also accepts number',
    ]);
    expect(diffSchemas(schema(z.array(z.object({ a: z.string() }))), schema(z.array(z.object({}))), 'output').map((c) => `${c.path}: ${c.message}`)).toEqual([
      'output[].a: removed output field',
    ]);
    expect(diffSchemas(schema(z.number().int()), schema(z.number()), 'input').filter((c) => c.severity === 'breaking')).toEqual([]);
    expect(diffSchemas(schema(z.number().int()), schema(z.number()), 'output').map((c) => c.severity)).toContain('breaking');
    expect(diffSchemas(schema(z.number()), schema(z.number().int()), 'input').map((c) => c.severity)).toContain('breaking');
    expect(diffSchemas(schema(z.string().nullable()), schema(z.string()), 'input').map((c) => c.message)).toEqual(['no longer accepts null']);
    expect(diffSchemas(schema(z.string().default('a')), schema(z.string().default('b')), 'input').map((c) => c.severity)).toEqual(['breaking']);
  });

  it('parses semver', () => {
    expect(parseSemver('1.2.3')).toEqual([1, 2, 3]);
    expect(parseSemver('2.0.0-beta.1')).toEqual([2, 0, 0]);
    expect(parseSemver('1.2')).toBeNull();
  });

  it('formats a readable report', () => {
    const before = snapshotOf([stable(GetIntegration)]);
    const after = snapshotOf([stable(variant(GetIntegration, { output: IntegrationRecord.omit({ tags: true }) }), '1.1.0')]);
    const text = formatReport(compareSnapshots(before, after), before, after);
    expect(text).toContain('✗ 1 contract(s) break their promise to callers:');
    expect(text).toContain('integrations.integration.get is stable at 1.0.0: 1 breaking change(s) need a major version bump (to 2.0.0)');
    expect(text).toContain('    - output.tags: removed output field');
    expect(text).toContain('  integrations.integration.get [stable → stable, 1.0.0 → 1.1.0]');
  });

  describe('scripts/contracts-check.ts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-contracts-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const script = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'scripts/contracts-check.ts', ...args]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );

    it('passes against the committed snapshot', async () => {
      const result = await script();
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('contracts:check passed');
    });

    it('exits 1 with a clear message when a stable contract lost an output field without a major bump', async () => {
      // The snapshot says the contract was stable and returned one more field than it does now.
      const snapshot: RegistrySnapshot = snapshotOf(ALL_CONTRACTS);
      const entry = snapshot.contracts['integrations.integration.get']!;
      entry.stability = 'stable';
      entry.output = { ...entry.output, properties: { ...entry.output.properties, legacyName: { type: 'string' } }, required: [...(entry.output.required ?? []), 'legacyName'] };
      const file = join(dir, 'snapshot.json');
      writeFileSync(file, serializeSnapshot(snapshot));
      const result = await script('--snapshot', file);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('integrations.integration.get is stable at 1.0.0');
      expect(result.stderr).toContain('output.legacyName: removed output field');
      expect(result.stderr).toContain('contracts:check failed');

      // The snapshot says a stable contract honoured Idempotency-Key and read a header it no longer does.
      const replay: RegistrySnapshot = snapshotOf(ALL_CONTRACTS);
      const create = replay.contracts['integrations.integration.create']!;
      create.stability = 'stable';
      create.http.headers = { ...create.http.headers, note: 'x-note' };
      const reveal = replay.contracts['integrations.connection.reveal']!;
      reveal.stability = 'stable';
      reveal.http.idempotencyKey = true;
      writeFileSync(file, serializeSnapshot(replay));
      const binding = await script('--snapshot', file);
      expect(binding.code).toBe(1);
      expect(binding.stderr).toContain('http.headers: input field note is no longer read from the x-note header');
      expect(binding.stderr).toContain('http.idempotencyKey: no longer honours Idempotency-Key');

      const written = join(dir, 'written.json');
      const write = await script('--write', '--snapshot', written);
      expect(write.code).toBe(0);
      expect(readFileSync(written, 'utf8')).toBe(serializeSnapshot(snapshotOf(ALL_CONTRACTS, STREAMING_CONTRACTS)));
    });
  });
});
