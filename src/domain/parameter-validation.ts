import { type FieldError, LatchkeyError } from '../errors.js';
import type { AuthMethod, ProviderParameter } from '../providers/provider-schema.js';
import { RESERVED_HEADER_MESSAGE, isReservedRequestHeader } from '../providers/reserved-headers.js';
import { isMaskLike } from './mask-detection.js';

const MAX_SECRET_LENGTH = 64 * 1024;

/** Parameters of a provider that apply at a level and auth method. */
export function parametersFor(params: readonly ProviderParameter[], level: 'integration' | 'connection', authMethod: AuthMethod): ProviderParameter[] {
  return params.filter((p) => p.level === level && (!p.authMethods || p.authMethods.includes(authMethod)));
}

function checkValue(param: ProviderParameter, value: unknown, path: string, errors: FieldError[]): unknown {
  switch (param.type) {
    case 'string': {
      if (typeof value !== 'string') return errors.push({ path, message: 'must be a string' }), value;
      if (value.length > 4096) return errors.push({ path, message: 'must be at most 4096 characters' }), value;
      if (param.pattern && !new RegExp(param.pattern).test(value)) errors.push({ path, message: `must match ${param.pattern}` });
      else if (param.format === 'credential-header' && isReservedRequestHeader(value)) errors.push({ path, message: RESERVED_HEADER_MESSAGE });
      return value;
    }
    case 'integer':
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return errors.push({ path, message: `must be a ${param.type}` }), value;
      if (param.type === 'integer' && !Number.isInteger(n)) return errors.push({ path, message: 'must be an integer' }), value;
      if (param.integerRange && (n < param.integerRange.min || n > param.integerRange.max)) {
        errors.push({ path, message: `must be between ${param.integerRange.min} and ${param.integerRange.max}` });
      }
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') errors.push({ path, message: 'must be a boolean' });
      return value;
    case 'enum': {
      const allowed = (param.options ?? []).map((o) => o.value);
      if (typeof value !== 'string' || !allowed.includes(value)) errors.push({ path, message: `must be one of ${allowed.join(', ')}` });
      return value;
    }
    case 'json':
      if (value === null || typeof value !== 'object') errors.push({ path, message: 'must be a JSON object or array' });
      return value;
  }
}

/**
 * Validates non-secret config against the provider's parameters: no unknown or secret
 * fields, types, patterns, formats (a credential header that is not hop-by-hop, framing or
 * routing), ranges, options; applies defaults; checks required fields.
 * Collects every problem into one 422.
 */
export function validateConfig(
  params: readonly ProviderParameter[],
  config: Record<string, unknown>,
  path: string,
): Record<string, unknown> {
  const errors: FieldError[] = [];
  const byName = new Map(params.map((p) => [p.name, p]));
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    const param = byName.get(name);
    if (!param) errors.push({ path: `${path}.${name}`, message: 'is not a parameter of this provider and auth method' });
    else if (param.secret) errors.push({ path: `${path}.${name}`, message: 'is a secret; send it in secrets, not config' });
    else if (value !== null && value !== undefined) out[name] = checkValue(param, value, `${path}.${name}`, errors);
  }
  for (const param of params) {
    if (param.secret || name(out, param)) continue;
    if (param.defaultValue !== undefined) out[param.name] = param.defaultValue;
    else if (param.required) errors.push({ path: `${path}.${param.name}`, message: 'is required' });
  }
  if (errors.length > 0) throw new LatchkeyError('validation_failed', `invalid ${path}`, { errors });
  return out;
}

const name = (obj: Record<string, unknown>, param: ProviderParameter): boolean => Object.hasOwn(obj, param.name);

/**
 * Validates incoming secret values (before carry-forward): declared names only, strings
 * or null, no mask-like values, patterns. Never puts a value into a message.
 */
export function validateSecretChanges(
  declared: ReadonlyMap<string, { pattern?: string | undefined }>,
  changes: Record<string, unknown> | undefined,
  path: string,
): Record<string, string | null> {
  const errors: FieldError[] = [];
  const out: Record<string, string | null> = {};
  for (const [field, value] of Object.entries(changes ?? {})) {
    const at = `${path}.${field}`;
    const decl = declared.get(field);
    if (!decl) errors.push({ path: at, message: 'is not a secret field of this provider and auth method' });
    else if (value === null) out[field] = null;
    else if (typeof value !== 'string') errors.push({ path: at, message: 'must be a string or null' });
    else if (value.length === 0) errors.push({ path: at, message: 'must not be empty (use null to remove it)' });
    // A lone surrogate would be stored as U+FFFD: the credential would silently differ from what was sent.
    else if (!value.isWellFormed()) errors.push({ path: at, message: 'must be well-formed Unicode' });
    else if (value.length > MAX_SECRET_LENGTH) errors.push({ path: at, message: `must be at most ${MAX_SECRET_LENGTH} characters` });
    else if (isMaskLike(value)) errors.push({ path: at, message: 'looks like a masked placeholder; send the real value, omit the field to keep it, or null to remove it' });
    else if (decl.pattern && !new RegExp(decl.pattern).test(value)) errors.push({ path: at, message: `does not have the expected format (${decl.pattern})` });
    else out[field] = value;
  }
  if (errors.length > 0) throw new LatchkeyError('validation_failed', `invalid ${path}`, { errors });
  return out;
}

/** After carry-forward, every required secret must be set. */
export function assertRequiredSecrets(required: readonly string[], present: ReadonlySet<string>, path: string): void {
  const missing = required.filter((f) => !present.has(f));
  if (missing.length > 0) {
    throw new LatchkeyError('validation_failed', `missing required ${path}`, {
      errors: missing.map((f) => ({ path: `${path}.${f}`, message: 'is required' })),
    });
  }
}
