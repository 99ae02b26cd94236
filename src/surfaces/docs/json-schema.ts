import { z } from 'zod';

/** A JSON Schema node, as `z.toJSONSchema` writes it (draft 2020-12). */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  [keyword: string]: unknown;
};

/**
 * The JSON Schema of a zod schema from one side: `input` (what a caller may send, so fields
 * with defaults are optional) or `output` (what the server returns). `$schema` is dropped.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Resolves a local `$ref` (`#/$defs/Name`) against the root; other nodes are returned as is. */
export function resolveRef(node: JsonSchema, root: JsonSchema): JsonSchema {
  if (!node.$ref) return node;
  const name = node.$ref.replace(/^#\/\$defs\//, '');
  return root.$defs?.[name] ?? {};
}

/** The branches of a union node (`anyOf`/`oneOf`), or the node itself. */
export const branchesOf = (node: JsonSchema): JsonSchema[] => node.anyOf ?? node.oneOf ?? [node];

const isNull = (node: JsonSchema) => node.type === 'null';

/** A union's first non-null branch, or the node itself (for examples and nesting). */
export const mainBranchOf = (node: JsonSchema): JsonSchema => branchesOf(node).find((b) => !isNull(b)) ?? node;

const typeNames = (node: JsonSchema): string[] => (Array.isArray(node.type) ? node.type : node.type ? [node.type] : []);
const paren = (type: string) => (type.includes(' | ') ? `(${type})` : type);

/** A short TypeScript-like rendering of a node's type: `string`, `"a" | "b"`, `Record<string, boolean>`, `string[] | null`. */
export function typeOf(node: JsonSchema, root: JsonSchema = node): string {
  const n = resolveRef(node, root);
  if (n.$ref) return n.$ref.replace(/^#\/\$defs\//, '');
  if ('const' in n) return JSON.stringify(n.const);
  if (n.enum) return n.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (n.anyOf || n.oneOf) return [...new Set(branchesOf(n).map((b) => typeOf(b, root)))].join(' | ');
  if (n.allOf) return n.allOf.map((b) => typeOf(b, root)).join(' & ');
  const names = typeNames(n);
  if (names.length === 0) return 'unknown';
  return names
    .map((name) => {
      if (name === 'array') return `${paren(n.items ? typeOf(n.items, root) : 'unknown')}[]`;
      if (name === 'object') {
        if (n.properties && Object.keys(n.properties).length > 0) return 'object';
        const extra = n.additionalProperties;
        if (extra === false) return 'object';
        return `Record<string, ${extra === undefined || extra === true ? 'unknown' : typeOf(extra, root)}>`;
      }
      if (name === 'string' && typeof n.format === 'string' && FORMATS.has(n.format)) return `string (${n.format})`;
      return name;
    })
    .join(' | ');
}

/** One row of a field table. */
export interface FieldRow {
  /** Dotted path: `credentials.type`, `data[].key`, `labels.*`. */
  name: string;
  type: string;
  required: boolean;
  description: string;
}

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
const characters = (n: unknown) => `${n} character${n === 1 ? '' : 's'}`;
/** JSON Schema formats worth showing in a type; zod's own (`starts_with`, …) are left out. */
const FORMATS = new Set(['date-time', 'date', 'time', 'email', 'uri', 'url', 'uuid', 'ipv4', 'ipv6', 'hostname', 'duration']);

/** The description of a node, with its constraints (pattern, length, range, default) in words. */
export function describe(node: JsonSchema, root: JsonSchema): string {
  const n = resolveRef(node, root);
  const inner = mainBranchOf(n);
  const parts: string[] = [];
  const text = (n.description ?? inner.description) as string | undefined;
  if (text) parts.push(text.endsWith('.') ? text.slice(0, -1) : text);
  const keyword = (k: string) => (n[k] ?? inner[k]) as unknown;
  // A well-known format says more than the regex zod writes for it.
  if (keyword('pattern') !== undefined && !FORMATS.has(String(keyword('format')))) parts.push(`pattern ${code(keyword('pattern'))}`);
  if (keyword('minLength') !== undefined) parts.push(`at least ${characters(keyword('minLength'))}`);
  if (keyword('maxLength') !== undefined) parts.push(`at most ${characters(keyword('maxLength'))}`);
  // z.number().int() bounds every integer to the safe range; only real bounds are worth a word.
  const bound = (k: string) => (typeof keyword(k) === 'number' && Math.abs(keyword(k) as number) < Number.MAX_SAFE_INTEGER ? keyword(k) : undefined);
  if (bound('minimum') !== undefined) parts.push(`minimum ${bound('minimum')}`);
  if (bound('maximum') !== undefined) parts.push(`maximum ${bound('maximum')}`);
  if (keyword('maxItems') !== undefined) parts.push(`at most ${keyword('maxItems')} items`);
  if (keyword('default') !== undefined) parts.push(`default \`${JSON.stringify(keyword('default'))}\``);
  return parts.join('; ');
}

/** The object a node nests (itself, its non-null branch, or its array items), if it has fields or a record value. */
function nestedObjectOf(node: JsonSchema, root: JsonSchema): { node: JsonSchema; suffix: string } | undefined {
  const n = mainBranchOf(resolveRef(node, root));
  if (typeNames(n).includes('array') && n.items) {
    const items = mainBranchOf(resolveRef(n.items, root));
    return items.properties ? { node: items, suffix: '[]' } : undefined;
  }
  return n.properties || (typeof n.additionalProperties === 'object' && mainBranchOf(n.additionalProperties).properties) ? { node: n, suffix: '' } : undefined;
}

/**
 * The fields of an object schema as table rows, nested objects flattened to dotted paths
 * (`credentials.type`, `data[].key`), in declaration order. `*` names the values of a
 * record or the extra fields of an object with a catch-all.
 */
export function fieldsOf(schema: JsonSchema, opts: { maxDepth?: number; skip?: ReadonlySet<string> } = {}): FieldRow[] {
  const rows: FieldRow[] = [];
  const maxDepth = opts.maxDepth ?? 4;
  const walk = (node: JsonSchema, prefix: string, depth: number) => {
    const required = new Set(node.required ?? []);
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      if (depth === 0 && opts.skip?.has(name)) continue;
      const path = `${prefix}${name}`;
      rows.push({ name: path, type: typeOf(child, schema), required: required.has(name), description: describe(child, schema) });
      const nested = depth < maxDepth ? nestedObjectOf(child, schema) : undefined;
      if (nested) walk(nested.node, `${path}${nested.suffix}.`, depth + 1);
    }
    const extra = node.additionalProperties;
    if (typeof extra === 'object' && (node.properties || mainBranchOf(extra).properties)) {
      const path = `${prefix}*`;
      rows.push({ name: path, type: typeOf(extra, schema), required: false, description: describe(extra, schema) || 'Any further field' });
      const nested = depth < maxDepth ? nestedObjectOf(extra, schema) : undefined;
      if (nested) walk(nested.node, `${path}${nested.suffix}.`, depth + 1);
    }
  };
  const top = mainBranchOf(resolveRef(schema, schema));
  walk(top, '', 0);
  return rows;
}
