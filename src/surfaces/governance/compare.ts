import type { Stability } from '../../contracts/define.js';
import { type SchemaChange, type Severity, diffSchemas } from './schema-diff.js';
import type { ContractSnapshot, RegistrySnapshot, StreamingSnapshot } from './snapshot.js';

/** What the registry's contracts and the streaming ones share, for judging. */
type Governed = Pick<ContractSnapshot, 'version' | 'stability' | 'kind' | 'policies'>;

/** One difference of one contract between the snapshot and the registry. */
export interface ContractChange extends SchemaChange {
  key: string;
}

/** A change the check refuses, with the reason. */
export interface Violation {
  key: string;
  message: string;
  changes: ContractChange[];
}

export interface ComparisonReport {
  /** Every change, per contract key (sorted), including those of non-stable contracts. */
  changes: ContractChange[];
  /** What fails the check: breaking changes to a governed contract without a major version bump. */
  violations: Violation[];
  /** Worth a look but not failing, e.g. a changed contract that kept its version. */
  warnings: string[];
}

/** Stabilities whose breaking changes need a major version: callers were promised compatibility. */
const GOVERNED: ReadonlySet<Stability> = new Set(['stable', 'deprecated']);
const RANK: Record<Stability, number> = { experimental: 0, beta: 1, stable: 2, deprecated: 3 };

/** `1.4.2` → [1, 4, 2]; anything unparsable → null. */
export function parseSemver(version: string): [number, number, number] | null {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

const compareSemver = (a: [number, number, number], b: [number, number, number]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

type Add = (severity: Severity, path: string, message: string) => void;

/**
 * Input fields bound to request headers (`http.headers`). A field no longer read from its
 * header, or read from another one, breaks callers that send it there; a field that
 * callers used to send in the body or query and that is now read from a header breaks
 * them too (the server refuses it in the body). A header for a field that is new is
 * compatible here; whether the field is required is the input schema's business.
 */
function diffHttpHeaders(before: ContractSnapshot, after: ContractSnapshot, add: Add): void {
  const hb = before.http.headers;
  const ha = after.http.headers;
  if (!hb || !ha) return;
  for (const [field, header] of Object.entries(hb)) {
    const next = ha[field];
    if (next === undefined) add('breaking', 'http.headers', `input field ${field} is no longer read from the ${header} header`);
    else if (next !== header) add('breaking', 'http.headers', `input field ${field} moved from the ${header} header to ${next}`);
  }
  const existed = new Set(Object.keys(before.input.properties ?? {}));
  for (const [field, header] of Object.entries(ha).filter(([f]) => hb[f] === undefined)) {
    if (existed.has(field)) add('breaking', 'http.headers', `input field ${field} is now read from the ${header} header, no longer from the body or query`);
    else add('compatible', 'http.headers', `new input header ${header} (field ${field})`);
  }
}

/** Kind, policies and stability: what every governed operation has, streaming or not. */
function diffCommon(before: Governed, after: Governed, add: Add): void {
  if (before.kind !== after.kind) add('breaking', 'kind', `kind changed from ${before.kind} to ${after.kind}`);
  for (const p of after.policies.filter((x) => !before.policies.includes(x))) add('breaking', 'policy', `now also requires policy ${p}`);
  for (const p of before.policies.filter((x) => !after.policies.includes(x))) add('compatible', 'policy', `no longer requires policy ${p}`);
  if (before.stability !== after.stability) {
    const lowered = RANK[after.stability] < RANK[before.stability];
    add(lowered && GOVERNED.has(before.stability) ? 'breaking' : 'info', 'stability', `stability changed from ${before.stability} to ${after.stability}`);
  }
}

/** Every caller-visible change of one contract: kind, HTTP binding (headers and idempotency included), policies, stability, input and output schemas. */
export function diffContract(key: string, before: ContractSnapshot, after: ContractSnapshot): ContractChange[] {
  const changes: ContractChange[] = [];
  const add: Add = (severity, path, message) => changes.push({ key, severity, path, message });
  if (before.http.method !== after.http.method) add('breaking', 'http.method', `HTTP method changed from ${before.http.method} to ${after.http.method}`);
  if (before.http.path !== after.http.path) add('breaking', 'http.path', `HTTP path changed from ${before.http.path} to ${after.http.path}`);
  if (before.http.successStatus !== after.http.successStatus) {
    add('breaking', 'http.successStatus', `success status changed from ${before.http.successStatus} to ${after.http.successStatus}`);
  }
  for (const alias of before.http.aliases.filter((a) => !after.http.aliases.includes(a))) add('breaking', 'http.aliases', `HTTP alias ${alias} removed`);
  for (const alias of after.http.aliases.filter((a) => !before.http.aliases.includes(a))) add('compatible', 'http.aliases', `HTTP alias ${alias} added`);
  for (const q of before.http.query.filter((x) => !after.http.query.includes(x))) add('breaking', 'http.query', `query parameter ${q} removed`);
  for (const q of after.http.query.filter((x) => !before.http.query.includes(x))) add('compatible', 'http.query', `query parameter ${q} added`);
  diffHttpHeaders(before, after, add);
  if (before.http.idempotencyKey !== undefined && after.http.idempotencyKey !== undefined && before.http.idempotencyKey !== after.http.idempotencyKey) {
    if (after.http.idempotencyKey) add('compatible', 'http.idempotencyKey', 'now honours Idempotency-Key');
    else add('breaking', 'http.idempotencyKey', 'no longer honours Idempotency-Key: a retry that relied on a replay runs again, or is refused with 400');
  }
  if (before.http.ifMatch !== undefined && after.http.ifMatch !== undefined && before.http.ifMatch !== after.http.ifMatch) {
    if (after.http.ifMatch) add('compatible', 'http.ifMatch', 'now honours If-Match');
    else add('breaking', 'http.ifMatch', 'no longer honours If-Match: a conditional change is refused with 400 instead of applied or answered 412');
  }
  diffCommon(before, after, add);
  for (const change of diffSchemas(before.input, after.input, 'input')) changes.push({ key, ...change });
  for (const change of diffSchemas(before.output, after.output, 'output')) changes.push({ key, ...change });
  return changes;
}

/**
 * Every caller-visible change of one streaming operation: a method it no longer forwards
 * or a new path breaks callers; policies, stability and the input its URL carries are
 * judged as for every contract. Its bodies are bytes, so there is no output schema.
 */
export function diffStreamingContract(key: string, before: StreamingSnapshot, after: StreamingSnapshot): ContractChange[] {
  const changes: ContractChange[] = [];
  const add: Add = (severity, path, message) => changes.push({ key, severity, path, message });
  if (before.http.path !== after.http.path) add('breaking', 'http.path', `HTTP path changed from ${before.http.path} to ${after.http.path}`);
  for (const m of before.http.methods.filter((x) => !after.http.methods.includes(x))) add('breaking', 'http.methods', `no longer forwards ${m}`);
  for (const m of after.http.methods.filter((x) => !before.http.methods.includes(x))) add('compatible', 'http.methods', `now also forwards ${m}`);
  diffCommon(before, after, add);
  for (const change of diffSchemas(before.input, after.input, 'input')) changes.push({ key, ...change });
  return changes;
}

interface Judged {
  changes: ContractChange[];
  violations: Violation[];
  warnings: string[];
}

/**
 * Judges one set of governed operations (the registry's, or the streaming ones): new ones
 * are reported, a stable one may not disappear, and a breaking change of a stable one
 * needs a major version bump.
 */
function judge<T extends Governed>(
  previous: Record<string, T>,
  current: Record<string, T>,
  diff: (key: string, before: T, after: T) => ContractChange[],
  bindingOf: (entry: T) => string,
  out: Judged,
): void {
  const { changes, violations, warnings } = out;
  const keys = [...new Set([...Object.keys(previous), ...Object.keys(current)])].sort();
  for (const key of keys) {
    const before = previous[key];
    const after = current[key];
    if (!before && after) {
      changes.push({ key, severity: 'compatible', path: key, message: `new ${after.stability} operation ${bindingOf(after)}` });
      continue;
    }
    if (before && !after) {
      const change: ContractChange = { key, severity: 'breaking', path: key, message: `operation removed (was ${before.stability} ${before.version})` };
      changes.push(change);
      if (before.stability === 'stable') {
        violations.push({ key, message: `${key} was stable and is removed; deprecate it first (stability: 'deprecated'), then remove it in a later release`, changes: [change] });
      }
      continue;
    }
    if (!before || !after) continue;
    const own = diff(key, before, after);
    changes.push(...own);
    const vb = parseSemver(before.version);
    const va = parseSemver(after.version);
    if (!va) {
      violations.push({ key, message: `${key}: version ${JSON.stringify(after.version)} is not semver (major.minor.patch)`, changes: [] });
      continue;
    }
    if (vb && compareSemver(va, vb) < 0) {
      violations.push({ key, message: `${key}: version went down from ${before.version} to ${after.version}`, changes: [] });
      continue;
    }
    const breaking = own.filter((c) => c.severity === 'breaking');
    const majorBumped = vb !== null && va[0] > vb[0];
    if (breaking.length > 0 && GOVERNED.has(before.stability) && !majorBumped) {
      const needed = vb ? `${vb[0] + 1}.0.0` : 'a new major version';
      violations.push({
        key,
        message: `${key} is ${before.stability} at ${before.version}: ${breaking.length} breaking change(s) need a major version bump (to ${needed}) or a compatible change`,
        changes: breaking,
      });
    }
    const contractChanged = own.some((c) => c.severity !== 'info');
    if (contractChanged && before.version === after.version) warnings.push(`${key} changed but kept version ${after.version}; bump its minor (compatible) or major (breaking) version`);
  }
}

/**
 * Compares the committed snapshot with the current registry (and the streaming
 * operations, when the snapshot recorded them). A `stable` (or `deprecated`) contract may
 * only change compatibly unless its major version goes up; it may not be removed unless it
 * was deprecated first. Other contracts may change freely; their changes are reported.
 */
export function compareSnapshots(previous: RegistrySnapshot, current: RegistrySnapshot): ComparisonReport {
  const out: Judged = { changes: [], violations: [], warnings: [] };
  judge(previous.contracts, current.contracts, diffContract, (c) => `${c.http.method} ${c.http.path}`, out);
  judge(previous.streaming ?? {}, current.streaming ?? {}, diffStreamingContract, (c) => `${c.http.methods.join('|')} ${c.http.path} (streaming)`, out);
  return out;
}

const stabilityOf = (snapshot: RegistrySnapshot, key: string) => (snapshot.contracts[key] ?? snapshot.streaming?.[key])?.stability ?? 'removed';

/** A human report: violations first, then every change grouped by contract. */
export function formatReport(report: ComparisonReport, previous: RegistrySnapshot, current: RegistrySnapshot): string {
  const lines: string[] = [];
  if (report.violations.length > 0) {
    lines.push(`✗ ${report.violations.length} contract(s) break their promise to callers:`);
    for (const violation of report.violations) {
      lines.push(`  ${violation.message}`);
      for (const change of violation.changes) lines.push(`    - ${change.path}: ${change.message}`);
    }
    lines.push('');
  }
  for (const warning of report.warnings) lines.push(`! ${warning}`);
  if (report.warnings.length > 0) lines.push('');
  const byKey = new Map<string, ContractChange[]>();
  for (const change of report.changes.filter((c) => c.severity !== 'info')) byKey.set(change.key, [...(byKey.get(change.key) ?? []), change]);
  if (byKey.size === 0) lines.push('No caller-visible contract changes since the snapshot.');
  else lines.push(`Changes since the snapshot (${byKey.size} contract(s)):`);
  for (const [key, changes] of byKey) {
    const before = previous.contracts[key] ?? previous.streaming?.[key];
    const after = current.contracts[key] ?? current.streaming?.[key];
    const versions = `${before?.version ?? '–'} → ${after?.version ?? '–'}`;
    lines.push(`  ${key} [${stabilityOf(previous, key)} → ${stabilityOf(current, key)}, ${versions}]`);
    for (const change of changes) lines.push(`    ${change.severity === 'breaking' ? 'breaking  ' : 'compatible'} ${change.path}: ${change.message}`);
  }
  return lines.join('\n');
}
