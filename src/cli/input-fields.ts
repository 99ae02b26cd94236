import { z } from 'zod';
import type { AnyContract } from '../contracts/define.js';
import { credentialFields } from '../domain/credential-fields.js';
import { CREDENTIAL_TYPES, type ProviderDefinition } from '../providers/provider-schema.js';

/**
 * The CLI's view of one top-level input field of a contract, derived from the JSON Schema
 * of its zod input (`io: 'input'`, so defaulted fields are optional).
 */
export interface InputField {
  /** The contract's field name, e.g. `displayName`. */
  name: string;
  /** Its flag, the kebab-case of the name: `display-name`. */
  flag: string;
  kind: 'string' | 'number' | 'boolean' | 'array' | 'object' | 'json';
  /** For arrays: the item type. */
  itemKind?: 'string' | 'number';
  /** `null` is accepted (sent with `--no-<flag>`). */
  nullable: boolean;
  required: boolean;
  choices?: string[];
  description?: string;
  defaultValue?: unknown;
  /** A `{name}` parameter of the HTTP path: also accepted as a positional argument. */
  pathParam: boolean;
  /**
   * Which entries of an object field are write-only secrets: all (`secrets`), all except
   * the non-secret canonical credential fields (`credentials`), or none.
   */
  secretEntries: 'none' | 'all' | 'credentials';
}

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  default?: unknown;
};

export const kebab = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/**
 * Credential fields that are not secret in any canonical type (`type`, `expiresAt`,
 * `scopes`, `tokenType`): everything else under `credentials` is treated as secret — fail
 * closed, so a provider's custom secret field can never be typed on the command line.
 */
export const NON_SECRET_CREDENTIAL_FIELDS: ReadonlySet<string> = new Set([
  'type',
  ...CREDENTIAL_TYPES.filter((t) => t !== 'custom')
    // Only `custom` consults the provider; the canonical types ignore it.
    .flatMap((t) => credentialFields(t, { parameters: [] } as unknown as ProviderDefinition))
    .filter((f) => !f.secret)
    .map((f) => f.name),
]);

export function isSecretEntry(field: InputField, entry: string): boolean {
  if (field.secretEntries === 'all') return true;
  if (field.secretEntries === 'credentials') return !NON_SECRET_CREDENTIAL_FIELDS.has(entry);
  return false;
}

const isBooleanLike = (s: JsonSchema): boolean =>
  s.type === 'boolean' || (s.type === 'string' && Array.isArray(s.enum) && s.enum.length === 2 && s.enum.includes('true') && s.enum.includes('false'));

function classify(schema: JsonSchema): Pick<InputField, 'kind' | 'itemKind' | 'nullable' | 'choices'> {
  if (schema.anyOf) {
    const options = schema.anyOf.filter((o) => o.type !== 'null');
    const nullable = options.length < schema.anyOf.length;
    if (options.length > 0 && options.every(isBooleanLike)) return { kind: 'boolean', nullable };
    if (options.length === 1) return { ...classify(options[0]!), nullable };
    return { kind: 'json', nullable };
  }
  switch (schema.type) {
    case 'string':
      return { kind: 'string', nullable: false, ...(schema.enum ? { choices: schema.enum.map(String) } : {}) };
    case 'integer':
    case 'number':
      return { kind: 'number', nullable: false };
    case 'boolean':
      return { kind: 'boolean', nullable: false };
    case 'array': {
      const item = schema.items?.type;
      return { kind: 'array', itemKind: item === 'number' || item === 'integer' ? 'number' : 'string', nullable: false };
    }
    case 'object':
      return { kind: 'object', nullable: false };
    default:
      return { kind: 'json', nullable: false };
  }
}

const pathParamsOf = (contract: AnyContract): Set<string> => new Set([...contract.http.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!));

/** The top-level input fields of a contract, in declaration order. */
export function inputFieldsOf(contract: AnyContract): InputField[] {
  const schema = z.toJSONSchema(contract.io.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(schema.required ?? []);
  const pathParams = pathParamsOf(contract);
  return Object.entries(schema.properties ?? {}).map(([name, prop]) => ({
    name,
    flag: kebab(name),
    ...classify(prop),
    required: required.has(name),
    ...(prop.description ? { description: prop.description } : {}),
    ...(prop.default !== undefined ? { defaultValue: prop.default } : {}),
    pathParam: pathParams.has(name),
    secretEntries: name === 'secrets' ? 'all' : name === 'credentials' ? 'credentials' : 'none',
  }));
}
