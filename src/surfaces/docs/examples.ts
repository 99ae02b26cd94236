import { type JsonSchema, mainBranchOf, resolveRef } from './json-schema.js';

const EXAMPLE_TIME = '2025-01-01T00:00:00.000Z';

/**
 * An example value for a JSON Schema node, built from the schema alone so it can never
 * carry a real value: strings become `<fieldName>` placeholders (write-only secrets
 * included), enums their first value, numbers their minimum (or 1), and defaults and
 * constants themselves. Deterministic.
 */
export function exampleOf(node: JsonSchema, name = 'value', root: JsonSchema = node, depth = 0): unknown {
  const n = resolveRef(node, root);
  if ('const' in n) return n.const;
  // A default says what to send, unless it is empty (`[]`, `{}`): then show the shape instead.
  const emptyDefault = typeof n.default === 'object' && n.default !== null && Object.keys(n.default).length === 0;
  if (n.default !== undefined && !emptyDefault) return n.default;
  if (n.enum && n.enum.length > 0) return n.enum[0];
  if (n.anyOf || n.oneOf) return exampleOf(mainBranchOf(n), name, root, depth);
  if (n.allOf?.[0]) return exampleOf(n.allOf[0], name, root, depth);
  const type = Array.isArray(n.type) ? n.type.find((t) => t !== 'null') : n.type;
  switch (type) {
    case 'string':
      if (n.format === 'date-time' || /ISO 8601/.test(String(n.description ?? ''))) return EXAMPLE_TIME;
      if (n.format === 'email') return 'user@example.com';
      if (n.format === 'uri' || n.format === 'url') return 'https://example.com';
      return `<${name}>`;
    case 'integer':
    case 'number':
      return typeof n.minimum === 'number' && Math.abs(n.minimum) < Number.MAX_SAFE_INTEGER ? n.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return depth > 6 || !n.items ? [] : [exampleOf(n.items, name, root, depth + 1)];
    case 'object':
      return objectExample(n, root, depth);
    default:
      return `<${name}>`;
  }
}

function objectExample(n: JsonSchema, root: JsonSchema, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (depth > 6) return out;
  for (const [key, child] of Object.entries(n.properties ?? {})) out[key] = exampleOf(child, key, root, depth + 1);
  const extra = n.additionalProperties;
  if (extra !== false && extra !== undefined && !(n.properties && Object.keys(n.properties).length > 0 && extra === true)) {
    out['<name>'] = extra === true ? '<value>' : exampleOf(extra, 'value', root, depth + 1);
  }
  return out;
}
