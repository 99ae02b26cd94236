import type { ProviderParameter } from '../../../src/providers/provider-schema.js';

/** A form control's value: text for most types, a boolean for checkboxes. */
export type FormValue = string | boolean;

/** What a control starts with: the stored value, else the parameter's default, else empty. */
export function initialValue(param: ProviderParameter, stored: unknown): FormValue {
  const value = stored !== undefined && stored !== null ? stored : param.defaultValue;
  if (param.type === 'boolean') return value === true || value === 'true';
  if (value === undefined || value === null) return '';
  if (param.type === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

type Parsed = { ok: true; empty: boolean; value: unknown } | { ok: false; message: string };

/**
 * Turns a control's value into the JSON value the API expects, with the checks a person
 * wants before a round trip (required, pattern, number, range, JSON). The server checks
 * everything again; its messages are shown in the same place.
 */
export function parseValue(param: ProviderParameter, raw: FormValue): Parsed {
  if (typeof raw === 'boolean') return { ok: true, empty: false, value: raw };
  const text = param.type === 'string' || param.type === 'enum' ? raw : raw.trim();
  if (text === '') return param.required && param.defaultValue === undefined ? { ok: false, message: 'is required' } : { ok: true, empty: true, value: undefined };
  switch (param.type) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (!Number.isFinite(n)) return { ok: false, message: `must be a ${param.type}` };
      if (param.type === 'integer' && !Number.isInteger(n)) return { ok: false, message: 'must be a whole number' };
      if (param.integerRange && (n < param.integerRange.min || n > param.integerRange.max)) {
        return { ok: false, message: `must be between ${param.integerRange.min} and ${param.integerRange.max}` };
      }
      return { ok: true, empty: false, value: n };
    }
    case 'json':
      try {
        const value: unknown = JSON.parse(text);
        if (value === null || typeof value !== 'object') return { ok: false, message: 'must be a JSON object or array' };
        return { ok: true, empty: false, value };
      } catch {
        return { ok: false, message: 'is not valid JSON' };
      }
    default:
      if (param.pattern && !safeTest(param.pattern, text)) return { ok: false, message: `must match ${param.pattern}` };
      return { ok: true, empty: false, value: text };
  }
}

function safeTest(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern).test(text);
  } catch {
    return true; // the server has the last word
  }
}

export interface ConfigResult {
  config: Record<string, unknown>;
  errors: Map<string, string>;
}

/**
 * Config for a create (or a full replace): every filled value. A field whose default was
 * cleared on purpose is sent as `""` so the server does not put the default back.
 */
export function configForCreate(params: readonly ProviderParameter[], values: Record<string, FormValue>, path = 'config'): ConfigResult {
  const config: Record<string, unknown> = {};
  const errors = new Map<string, string>();
  for (const param of params) {
    const raw = values[param.name] ?? initialValue(param, undefined);
    const parsed = parseValue(param, raw);
    if (!parsed.ok) errors.set(`${path}.${param.name}`, parsed.message);
    else if (!parsed.empty) config[param.name] = parsed.value;
    else if (param.type === 'string' && param.defaultValue !== undefined && param.defaultValue !== '') config[param.name] = '';
  }
  return { config, errors };
}

/**
 * A config patch for an update: only what changed. A cleared field is removed (`null`),
 * or set to `""` when it has a default that clearing should not bring back.
 */
export function configPatch(params: readonly ProviderParameter[], values: Record<string, FormValue>, stored: Record<string, unknown>, path = 'config'): ConfigResult {
  const config: Record<string, unknown> = {};
  const errors = new Map<string, string>();
  for (const param of params) {
    const raw = values[param.name];
    if (raw === undefined) continue;
    const parsed = parseValue(param, raw);
    const before = stored[param.name];
    if (!parsed.ok) errors.set(`${path}.${param.name}`, parsed.message);
    else if (parsed.empty) {
      if (before === undefined || before === '') continue;
      config[param.name] = param.type === 'string' && param.defaultValue !== undefined && param.defaultValue !== '' ? '' : null;
    } else if (JSON.stringify(parsed.value) !== JSON.stringify(before)) config[param.name] = parsed.value;
  }
  return { config, errors };
}

/** `accessToken` → `Access token`, with the usual acronyms. */
export function humanize(name: string): string {
  const KNOWN: Record<string, string> = { apiKey: 'API key', accessKeyId: 'Access key ID', secretAccessKey: 'Secret access key', clientId: 'Client ID', privateKey: 'Private key' };
  if (KNOWN[name]) return KNOWN[name];
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `a, b c` → `['a', 'b', 'c']`: tags and scopes typed as free text. */
export const splitList = (text: string): string[] => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
