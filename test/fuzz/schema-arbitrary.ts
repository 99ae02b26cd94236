/**
 * fast-check arbitraries from a contract's input JSON Schema (as `z.toJSONSchema` writes
 * it): values that mostly fit the schema, with hostile values swapped in at any node, so
 * the server sees both deep-valid inputs (which reach the handlers) and near-misses.
 */
import fc from 'fast-check';
import { type JsonSchema, resolveRef } from '../../src/surfaces/docs/json-schema.js';
import { EVIL_KEYS, evilJson } from './evil-values.js';

export interface SchemaArbitraryOptions {
  /** Chance (0–1) that any one node is replaced by a hostile value. */
  evilRate: number;
  /** Deepest nesting generated from the schema itself. */
  maxDepth: number;
}

const FORMATS: Record<string, () => fc.Arbitrary<string>> = {
  'date-time': () => fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  date: () => fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  uri: () => fc.webUrl(),
  url: () => fc.webUrl(),
  email: () => fc.emailAddress(),
  uuid: () => fc.uuid(),
};

const types = (node: JsonSchema): string[] => (Array.isArray(node.type) ? node.type : node.type ? [node.type] : []);

function stringArbitrary(node: JsonSchema): fc.Arbitrary<string> {
  if (typeof node.format === 'string' && FORMATS[node.format]) return FORMATS[node.format]!();
  const minLength = typeof node.minLength === 'number' ? node.minLength : 0;
  const maxLength = typeof node.maxLength === 'number' ? node.maxLength : Math.max(minLength, 40);
  if (typeof node.pattern === 'string') {
    try {
      const pattern = new RegExp(node.pattern);
      return fc.stringMatching(pattern).filter((s) => s.length >= minLength && s.length <= maxLength);
    } catch {
      // A pattern JavaScript cannot compile: plain strings below.
    }
  }
  return fc.string({ minLength, maxLength: Math.min(maxLength, 80), unit: 'grapheme' });
}

function numberArbitrary(node: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof node.minimum === 'number' ? node.minimum : typeof node.exclusiveMinimum === 'number' ? node.exclusiveMinimum + 1 : -1e6;
  const max = typeof node.maximum === 'number' ? node.maximum : typeof node.exclusiveMaximum === 'number' ? node.exclusiveMaximum - 1 : 1e6;
  const lo = Math.max(min, -Number.MAX_SAFE_INTEGER);
  const hi = Math.min(max, Number.MAX_SAFE_INTEGER);
  if (integer) return fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) });
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/**
 * An arbitrary for values of `schema` (resolved against `root` for `$ref`s). With
 * probability `evilRate` per node, a hostile value stands in for the valid one; object
 * nodes also sometimes lose required keys or gain hostile ones.
 *
 * @example
 * ```ts
 * const input = schemaArbitrary(jsonSchemaOf(contract.io.input, 'input'), { evilRate: 0.1, maxDepth: 4 });
 * fc.sample(input, 3);
 * ```
 */
export function schemaArbitrary(schema: JsonSchema, opts: SchemaArbitraryOptions, root: JsonSchema = schema, depth = 0): fc.Arbitrary<unknown> {
  const valid = validArbitrary(resolveRef(schema, root), opts, root, depth);
  if (opts.evilRate <= 0) return valid;
  const evilWeight = Math.max(1, Math.round(opts.evilRate * 100));
  return fc.oneof({ weight: 100 - evilWeight, arbitrary: valid }, { weight: evilWeight, arbitrary: evilJson });
}

function validArbitrary(node: JsonSchema, opts: SchemaArbitraryOptions, root: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if ('const' in node) return fc.constant(node.const);
  if (Array.isArray(node.enum) && node.enum.length > 0) return fc.constantFrom(...node.enum);
  const union = node.anyOf ?? node.oneOf;
  if (union && union.length > 0) return fc.oneof(...union.map((branch) => schemaArbitrary(branch, opts, root, depth)));
  if (node.allOf && node.allOf.length > 0) return schemaArbitrary(node.allOf[0]!, opts, root, depth);
  const names = types(node);
  if (names.length === 0) return depth >= opts.maxDepth ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(...names.map((name) => typed(name, node, opts, root, depth)));
}

function typed(name: string, node: JsonSchema, opts: SchemaArbitraryOptions, root: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  switch (name) {
    case 'string':
      return stringArbitrary(node);
    case 'integer':
      return numberArbitrary(node, true);
    case 'number':
      return numberArbitrary(node, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      if (depth >= opts.maxDepth) return fc.constant([]);
      const items = node.items ? schemaArbitrary(node.items, opts, root, depth + 1) : fc.jsonValue({ maxDepth: 1 });
      const minLength = typeof node.minItems === 'number' ? node.minItems : 0;
      const maxLength = Math.min(typeof node.maxItems === 'number' ? node.maxItems : 5, minLength + 5);
      return fc.array(items, { minLength, maxLength });
    }
    case 'object':
      return depth >= opts.maxDepth ? fc.constant({}) : objectArbitrary(node, opts, root, depth);
    default:
      return fc.constant(null);
  }
}

function objectArbitrary(node: JsonSchema, opts: SchemaArbitraryOptions, root: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = node.properties ?? {};
  const required = new Set(node.required ?? []);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, child] of Object.entries(properties)) record[name] = schemaArbitrary(child, opts, root, depth + 1);
  const known = Object.keys(record).length > 0 ? fc.record(record, { requiredKeys: [...required].filter((k) => k in record) }) : fc.constant({});
  // Free-form maps (metadata, labels, config): a few extra entries of the declared value type.
  const extraValue = typeof node.additionalProperties === 'object' ? schemaArbitrary(node.additionalProperties, opts, root, depth + 1) : node.additionalProperties === false ? null : fc.jsonValue({ maxDepth: 1 });
  const names = node.propertyNames ? stringArbitrary(resolveRef(node.propertyNames as JsonSchema, root)) : fc.string({ minLength: 1, maxLength: 12 });
  const extras = extraValue ? fc.dictionary(names, extraValue, { maxKeys: 3 }) : fc.constant({});
  const hostile = fc.oneof(
    { weight: 8, arbitrary: fc.constant([] as [string, unknown][]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom(...EVIL_KEYS), evilJson), { minLength: 1, maxLength: 2 }) },
  );
  const drop = fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...(required.size > 0 ? [...required] : [null])) });
  return fc.tuple(known, extras, hostile, drop).map(([base, extra, added, dropped]) => {
    const out: Record<string, unknown> = { ...extra, ...base };
    // defineProperty: `__proto__` must become an own key (as JSON.parse makes it), not a prototype swap.
    for (const [key, value] of added) Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
    if (dropped !== null) delete out[dropped];
    return out;
  });
}
