/**
 * What the contract fuzzer sends: a recipe per case (drawn by fast-check), turned into a
 * raw HTTP request against one contract's route, starting either from the contract's
 * input schema or from its valid fixture (test/http/fixtures.ts).
 */
import fc from 'fast-check';
import type { AnyContract } from '../../src/contracts/define.js';
import { jsonSchemaOf } from '../../src/surfaces/docs/json-schema.js';
import type { ContractCall } from '../http/fixtures.js';
import { BAD_AUTH, CONTENT_TYPES, EVIL_KEYS, HEADER_VARIANTS, PATH_SEGMENTS, QUERY_VALUES, RAW_BODIES, evilJson } from './evil-values.js';
import { schemaArbitrary } from './schema-arbitrary.js';

/** Callers the fuzzer can act as. `admin` holds every policy but reveal; the others hold fewer. */
export const ROLES = ['admin', 'operator', 'runtime', 'viewer', 'other-tenant'] as const;
export type Caller = (typeof ROLES)[number];

export type MutationOp = { op: 'set'; at: number; value: unknown } | { op: 'delete'; at: number } | { op: 'add'; at: number; key: string; value: unknown };

/** How one case is built. */
export type Recipe =
  | { kind: 'schema'; input: unknown }
  | { kind: 'fixture' }
  | { kind: 'mutate'; ops: MutationOp[] }
  | { kind: 'raw-body'; body: string | Buffer; contentType: string | null }
  | { kind: 'content-type'; contentType: string | null }
  | { kind: 'path'; at: number; segment: string }
  | { kind: 'query'; entries: Array<{ at: number; unknown: boolean; value: string; repeat: boolean }> }
  | { kind: 'headers'; headers: Record<string, string> }
  | { kind: 'bad-auth'; headers: Record<string, string> };

export interface FuzzCase {
  contract: AnyContract;
  /** Which of the contract's paths (main or an alias). */
  pathIndex: number;
  caller: Caller;
  recipe: Recipe;
}

/** A request exactly as it goes on the wire. */
export interface WireRequest {
  method: string;
  /** Path and query, percent-encoded as sent (never normalised). */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const hasBody = (c: AnyContract) => c.http.method === 'POST' || c.http.method === 'PUT' || c.http.method === 'PATCH';
const paramsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
const pathsOf = (c: AnyContract): string[] => [c.http.path, ...(c.http.aliases ?? [])];

/** The arbitrary of one case for `contract`; `withFixture` says whether a valid base exists. */
export function caseArbitrary(contract: AnyContract, withFixture: boolean): fc.Arbitrary<FuzzCase> {
  const schema = jsonSchemaOf(contract.io.input, 'input');
  const input = schemaArbitrary(schema, { evilRate: 0.08, maxDepth: 4 });
  const recipes: Array<{ weight: number; arbitrary: fc.Arbitrary<Recipe> }> = [
    { weight: 4, arbitrary: input.map((value) => ({ kind: 'schema' as const, input: value })) },
    { weight: 1, arbitrary: fc.constantFrom(...BAD_AUTH).map((headers) => ({ kind: 'bad-auth' as const, headers })) },
  ];
  if (withFixture) {
    const op: fc.Arbitrary<MutationOp> = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(evilJson, fc.jsonValue({ maxDepth: 2 })) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...EVIL_KEYS), fc.string({ maxLength: 8 })), value: evilJson }),
    );
    const queryEntry = fc.record({ at: fc.nat(), unknown: fc.boolean(), value: fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ maxLength: 20 }).map(encodeSegment)), repeat: fc.boolean() });
    recipes.push(
      { weight: 1, arbitrary: fc.constant({ kind: 'fixture' as const }) },
      { weight: 4, arbitrary: fc.array(op, { minLength: 1, maxLength: 3 }).map((ops) => ({ kind: 'mutate' as const, ops })) },
      { weight: 2, arbitrary: fc.record({ at: fc.nat(), segment: fc.constantFrom(...PATH_SEGMENTS) }).map((r) => ({ kind: 'path' as const, ...r })) },
      { weight: 2, arbitrary: fc.array(queryEntry, { minLength: 1, maxLength: 3 }).map((entries) => ({ kind: 'query' as const, entries })) },
      { weight: 1, arbitrary: fc.constantFrom(...HEADER_VARIANTS).map((headers) => ({ kind: 'headers' as const, headers })) },
    );
    if (hasBody(contract)) {
      recipes.push(
        { weight: 2, arbitrary: fc.record({ body: fc.constantFrom(...RAW_BODIES), contentType: fc.constantFrom<string | null>('application/json', ...CONTENT_TYPES) }).map((r) => ({ kind: 'raw-body' as const, ...r })) },
        { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES).map((contentType) => ({ kind: 'content-type' as const, contentType })) },
      );
    }
  }
  return fc.record({
    contract: fc.constant(contract),
    pathIndex: fc.nat({ max: pathsOf(contract).length - 1 }),
    caller: fc.oneof({ weight: 12, arbitrary: fc.constant('admin' as const) }, { weight: 3, arbitrary: fc.constantFrom(...ROLES) }),
    recipe: fc.oneof(...recipes),
  });
}

/** Every (container, key) location inside a JSON value, for mutations to pick from. */
function locations(value: unknown, depth = 0, out: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = []) {
  if (depth > 4 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) value.forEach((v, i) => (out.push({ parent: value, key: i }), locations(v, depth + 1, out)));
  else for (const [k, v] of Object.entries(value)) out.push({ parent: value as Record<string, unknown>, key: k }), locations(v, depth + 1, out);
  return out;
}

function containers(value: unknown, depth = 0, out: Array<Record<string, unknown>> = []) {
  if (depth > 4 || value === null || typeof value !== 'object') return out;
  if (!Array.isArray(value)) out.push(value as Record<string, unknown>);
  for (const v of Object.values(value as object)) containers(v, depth + 1, out);
  return out;
}

/** Applies mutations to a deep copy of `body` (an object; non-objects are replaced). */
export function mutate(body: unknown, ops: MutationOp[]): unknown {
  let root: unknown = body === undefined ? {} : structuredClone(body);
  for (const original of ops) {
    // A fresh copy of the value: generated values may share instances, and adding one into
    // itself would make a cycle. JSON.parse keeps `__proto__` as an own key.
    const op = 'value' in original ? { ...original, value: JSON.parse(JSON.stringify(original.value) ?? 'null') as unknown } : original;
    if (op.op === 'add') {
      const targets = containers(root);
      if (targets.length === 0) continue;
      const target = targets[op.at % targets.length]!;
      Object.defineProperty(target, op.key, { value: op.value, enumerable: true, configurable: true, writable: true });
      continue;
    }
    const spots = locations(root);
    if (spots.length === 0) {
      if (op.op === 'set') root = op.value;
      continue;
    }
    const spot = spots[op.at % spots.length]!;
    if (op.op === 'set') (spot.parent as Record<string | number, unknown>)[spot.key] = op.value;
    else if (Array.isArray(spot.parent)) spot.parent.splice(spot.key as number, 1);
    else delete spot.parent[spot.key as string];
  }
  return root;
}

/** Percent-encodes like encodeURIComponent, but never throws (lone surrogates become U+FFFD). */
export function encodeSegment(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.!~*'()]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const asQueryValue = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');
const asPathValue = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined');

function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => params[name] ?? 'missing');
}

/** Encodes a body for the wire: JSON for values, as is for raw strings and bytes. */
const json = (value: unknown): string => JSON.stringify(value) ?? 'null';

/**
 * Builds the wire request of a case. `base` is the contract's valid fixture call (null
 * when it has none), `auth` the headers of the chosen caller.
 */
export function wireRequest(fuzz: FuzzCase, base: ContractCall | null, auth: Record<string, string>): WireRequest {
  const { contract, recipe } = fuzz;
  const template = pathsOf(contract)[fuzz.pathIndex] ?? contract.http.path;
  const pathParams = paramsOf(template);
  const queryNames = contract.http.query ?? [];
  const method = contract.http.method;
  const headers: Record<string, string> = { ...(recipe.kind === 'bad-auth' ? recipe.headers : auth) };

  // Defaults from the fixture: encoded path parameters, the query and the body.
  const params: Record<string, string> = {};
  for (const name of pathParams) params[name] = encodeSegment(base?.params?.[name] ?? 'missing');
  const query = new URLSearchParams(base?.query ?? {});
  let rawQuery: string | null = null;
  let body: string | Buffer | undefined = hasBody(contract) && base?.body !== undefined ? json(base.body) : undefined;
  let contentType: string | null = body !== undefined ? 'application/json' : null;

  switch (recipe.kind) {
    case 'schema': {
      const input = (recipe.input && typeof recipe.input === 'object' && !Array.isArray(recipe.input) ? recipe.input : {}) as Record<string, unknown>;
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input)) if (!pathParams.includes(k) && !queryNames.includes(k)) Object.defineProperty(rest, k, { value: v, enumerable: true, configurable: true, writable: true });
      for (const name of pathParams) if (Object.hasOwn(input, name)) params[name] = encodeSegment(asPathValue(input[name]));
      for (const name of queryNames) {
        query.delete(name);
        if (Object.hasOwn(input, name) && input[name] !== undefined) query.set(name, asQueryValue(input[name]));
      }
      if (hasBody(contract)) {
        body = json(Array.isArray(recipe.input) || typeof recipe.input !== 'object' || recipe.input === null ? recipe.input : rest);
        contentType = 'application/json';
      }
      break;
    }
    case 'mutate':
      if (hasBody(contract)) body = json(mutate(base?.body ?? {}, recipe.ops));
      else {
        const mutated = mutate(Object.fromEntries(query), recipe.ops);
        rawQuery = Object.entries(mutated && typeof mutated === 'object' ? mutated : {})
          .map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(asQueryValue(v))}`)
          .join('&');
      }
      break;
    case 'raw-body':
      body = recipe.body;
      contentType = recipe.contentType;
      break;
    case 'content-type':
      if (body === undefined) body = '{}';
      contentType = recipe.contentType;
      break;
    case 'path':
      if (pathParams.length > 0) params[pathParams[recipe.at % pathParams.length]!] = recipe.segment;
      else return { method, path: `${fillPath(template, params)}/${recipe.segment}`, headers, ...(body !== undefined ? { body } : {}) };
      break;
    case 'query': {
      const parts: string[] = [];
      for (const [k, v] of query) parts.push(`${encodeSegment(k)}=${encodeSegment(v)}`);
      for (const entry of recipe.entries) {
        const name = entry.unknown || queryNames.length === 0 ? ['__proto__', 'constructor', 'unknown', 'limit[]', 'a.b', ''][entry.at % 6]! : queryNames[entry.at % queryNames.length]!;
        parts.push(`${encodeSegment(name)}=${entry.value}`);
        if (entry.repeat) parts.push(`${encodeSegment(name)}=${entry.value}`);
      }
      rawQuery = parts.join('&');
      break;
    }
    case 'headers':
      Object.assign(headers, recipe.headers);
      break;
    case 'fixture':
    case 'bad-auth':
      break;
  }
  if (body !== undefined && contentType !== null) headers['content-type'] = contentType;
  const qs = rawQuery ?? query.toString();
  return { method, path: `${fillPath(template, params)}${qs ? `?${qs}` : ''}`, headers, ...(body !== undefined ? { body } : {}) };
}

/** A short description of a case for reports (no body: it may be megabytes). */
export function describeCase(fuzz: FuzzCase): string {
  const r = fuzz.recipe;
  const detail = r.kind === 'raw-body' ? ` ct=${r.contentType}` : r.kind === 'content-type' ? ` ct=${r.contentType}` : r.kind === 'path' ? ` seg=${r.segment.slice(0, 40)}` : '';
  return `${fuzz.contract.meta.key} [${r.kind}${detail}] as ${fuzz.caller}`;
}
