import { type JsonSchema, branchesOf } from '../docs/json-schema.js';

/**
 * `breaking`: a caller written against the old schema can fail against the new one.
 * `compatible`: it cannot. `info`: documentation only (descriptions).
 */
export type Severity = 'breaking' | 'compatible' | 'info';

export interface SchemaChange {
  severity: Severity;
  /** Where, e.g. `input.scope` or `output.data[].hasSecrets`. */
  path: string;
  message: string;
}

/**
 * `input`: the new schema must accept everything the old one did (callers send it).
 * `output`: the new schema must produce nothing the old one could not (callers read it).
 */
export type Side = 'input' | 'output';

const typesOf = (node: JsonSchema): Set<string> => {
  const types = new Set<string>();
  for (const branch of branchesOf(node)) {
    if (Array.isArray(branch.type)) branch.type.forEach((t) => types.add(t));
    else if (branch.type) types.add(branch.type);
    else if ('const' in branch) types.add(branch.const === null ? 'null' : typeof branch.const);
    else if (branch.enum) branch.enum.forEach((v) => types.add(v === null ? 'null' : typeof v));
    else if (!branch.anyOf && !branch.oneOf) types.add('any');
  }
  return types;
};

/** The branch of a union that has this type (the node itself when it is not a union). */
const branchOfType = (node: JsonSchema, type: string): JsonSchema | undefined =>
  branchesOf(node).find((b) => (Array.isArray(b.type) ? b.type.includes(type) : b.type === type));

const enumOf = (node: JsonSchema, type: string): unknown[] | undefined => {
  const values = branchesOf(node).flatMap((b) => (b.enum ? b.enum : 'const' in b ? [b.const] : []));
  const typed = values.filter((v) => (v === null ? 'null' : typeof v) === (type === 'integer' ? 'number' : type));
  const unrestricted = branchesOf(node).some((b) => (Array.isArray(b.type) ? b.type.includes(type) : b.type === type) && !b.enum && !('const' in b));
  return typed.length > 0 && !unrestricted ? typed : undefined;
};

const show = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

/** A looser bound never breaks callers who send (input); a tighter one may. Output bounds are the server's business. */
const LOWER_BOUNDS = ['minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems', 'maxProperties'] as const;

/**
 * Every difference between two JSON Schemas that matters to callers, classified for one
 * side. Pure; walks objects, records, arrays and unions structurally.
 */
export function diffSchemas(before: JsonSchema, after: JsonSchema, side: Side, path: string = side): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const add = (severity: Severity, message: string, at = path) => changes.push({ severity, path: at, message });

  // Types: input may only gain types, output may only lose them. An integer is a number.
  const tb = typesOf(before);
  const ta = typesOf(after);
  const covers = (types: Set<string>, t: string) => types.has(t) || types.has('any') || (t === 'integer' && types.has('number'));
  const lost = [...tb].filter((t) => !covers(ta, t));
  const gained = [...ta].filter((t) => !covers(tb, t));
  if (lost.length) add(side === 'input' ? 'breaking' : 'compatible', `${side === 'input' ? 'no longer accepts' : 'no longer returns'} ${lost.join(', ')}`);
  if (gained.length) add(side === 'output' ? 'breaking' : 'compatible', `${side === 'input' ? 'now also accepts' : 'may now return'} ${gained.join(', ')}`);

  for (const type of [...tb].filter((t) => covers(ta, t))) {
    const b = branchOfType(before, type) ?? before;
    const a = branchOfType(after, type) ?? (type === 'integer' ? branchOfType(after, 'number') : undefined) ?? after;
    // Enumerations and constants.
    const eb = enumOf(before, type);
    const ea = enumOf(after, type);
    if (eb || ea) {
      const removed = eb ? (ea ? eb.filter((v) => !ea.includes(v)) : []) : [];
      const addedValues = ea ? (eb ? ea.filter((v) => !eb.includes(v)) : ea) : [];
      if (!eb && ea) add(side === 'input' ? 'breaking' : 'compatible', `${type} restricted to ${show(ea)}`);
      else if (eb && !ea) add(side === 'output' ? 'breaking' : 'compatible', `${type} no longer restricted to ${show(eb)}`);
      else {
        if (removed.length) add(side === 'input' ? 'breaking' : 'compatible', `enum lost ${show(removed)}`);
        if (addedValues.length) add(side === 'output' ? 'breaking' : 'compatible', `enum gained ${show(addedValues)}`);
      }
    }
    if (type === 'object') diffObjects(b, a, side, path, changes);
    if (type === 'array' && b.items && a.items) changes.push(...diffSchemas(b.items, a.items, side, `${path}[]`));
    if (side === 'input') {
      for (const k of LOWER_BOUNDS) {
        const vb = b[k] as number | undefined;
        const va = a[k] as number | undefined;
        if (va !== undefined && (vb === undefined || va > vb)) add('breaking', `${k} tightened from ${vb ?? 'none'} to ${va}`);
        else if (vb !== undefined && (va === undefined || va < vb)) add('compatible', `${k} loosened from ${vb} to ${va ?? 'none'}`);
      }
      for (const k of UPPER_BOUNDS) {
        const vb = b[k] as number | undefined;
        const va = a[k] as number | undefined;
        if (va !== undefined && (vb === undefined || va < vb)) add('breaking', `${k} tightened from ${vb ?? 'none'} to ${va}`);
        else if (vb !== undefined && (va === undefined || va > vb)) add('compatible', `${k} loosened from ${vb} to ${va ?? 'none'}`);
      }
      for (const k of ['pattern', 'format'] as const) {
        if (a[k] !== b[k]) add(a[k] === undefined ? 'compatible' : 'breaking', `${k} changed from ${JSON.stringify(b[k] ?? null)} to ${JSON.stringify(a[k] ?? null)}`);
      }
      if (JSON.stringify(a.default) !== JSON.stringify(b.default)) {
        add('breaking', `default changed from ${JSON.stringify(b.default ?? null)} to ${JSON.stringify(a.default ?? null)}: callers that leave it out get other behaviour`);
      }
    }
  }
  if ((before.description ?? null) !== (after.description ?? null)) add('info', 'description changed');
  return changes;
}

function diffObjects(before: JsonSchema, after: JsonSchema, side: Side, path: string, changes: SchemaChange[]): void {
  const pb = before.properties ?? {};
  const pa = after.properties ?? {};
  const rb = new Set(before.required ?? []);
  const ra = new Set(after.required ?? []);
  const at = (name: string) => `${path}.${name}`;
  for (const [name, schema] of Object.entries(pb)) {
    const next = pa[name];
    if (!next) {
      // A strict input object refuses the field callers still send; an output field callers read is gone.
      const extra = after.additionalProperties;
      const stillAccepted = side === 'input' && extra !== undefined && extra !== false;
      changes.push({ severity: stillAccepted ? 'compatible' : 'breaking', path: at(name), message: `removed ${side} field` });
      continue;
    }
    if (side === 'input' && !rb.has(name) && ra.has(name)) changes.push({ severity: 'breaking', path: at(name), message: 'input field became required' });
    if (side === 'input' && rb.has(name) && !ra.has(name)) changes.push({ severity: 'compatible', path: at(name), message: 'input field became optional' });
    if (side === 'output' && rb.has(name) && !ra.has(name)) changes.push({ severity: 'breaking', path: at(name), message: 'output field may now be absent' });
    if (side === 'output' && !rb.has(name) && ra.has(name)) changes.push({ severity: 'compatible', path: at(name), message: 'output field is now always present' });
    changes.push(...diffSchemas(schema, next, side, at(name)));
  }
  for (const name of Object.keys(pa).filter((n) => !(n in pb))) {
    if (side === 'input') {
      const required = ra.has(name);
      changes.push({ severity: required ? 'breaking' : 'compatible', path: at(name), message: required ? 'new required input field' : 'new optional input field' });
    } else {
      changes.push({ severity: 'compatible', path: at(name), message: 'new output field' });
    }
  }
  const xb = before.additionalProperties;
  const xa = after.additionalProperties;
  const open = (x: JsonSchema['additionalProperties']) => x !== undefined && x !== false;
  if (open(xb) && !open(xa)) changes.push({ severity: side === 'input' ? 'breaking' : 'compatible', path: `${path}.*`, message: side === 'input' ? 'no longer accepts extra fields' : 'no longer returns extra fields' });
  if (!open(xb) && open(xa)) changes.push({ severity: side === 'output' ? 'breaking' : 'compatible', path: `${path}.*`, message: side === 'output' ? 'may now return extra fields' : 'now accepts extra fields' });
  if (typeof xb === 'object' && typeof xa === 'object') changes.push(...diffSchemas(xb, xa, side, `${path}.*`));
}
