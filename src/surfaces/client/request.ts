import type { AnyContract } from '../../contracts/define.js';

/** The parts of one HTTP request for an operation, before headers and base URL. */
export interface HttpRequestParts {
  method: string;
  /** Path with filled parameters and query string, e.g. `/v1/integrations/github-prod?cascade=true`. */
  url: string;
  /** The JSON body, for POST, PUT and PATCH (always an object, `{}` when empty). */
  body: Record<string, unknown> | undefined;
  /** Request headers carrying input fields (the contract's `http.headers`), if any. */
  headers?: Record<string, string>;
}

const paramsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

/**
 * Maps an operation's input to its HTTP binding exactly as the server reads it back
 * (src/surfaces/http/contract-routes.ts): `{name}` path parameters from the fields of that
 * name, the contract's declared query fields into the query string, its header fields
 * (`http.headers`) into request headers, everything else into the JSON body. Among the path and its aliases the first whose parameters are all given
 * is used (`key` omitted on `integrations.connection.list` → `/v1/connections`).
 *
 * @throws TypeError when no path can be filled, or when a GET/DELETE input has a field the
 *   binding cannot carry (it would be silently dropped otherwise).
 */
export function toHttpRequest(contract: AnyContract, input: Record<string, unknown>): HttpRequestParts {
  const given = (name: string) => input[name] !== undefined && input[name] !== null;
  const candidates = [contract.http.path, ...(contract.http.aliases ?? [])];
  const path = candidates.find((p) => paramsOf(p).every(given));
  if (path === undefined) {
    const missing = paramsOf(contract.http.path).filter((name) => !given(name));
    throw new TypeError(`${contract.meta.key}: missing path parameter ${missing.join(', ')}`);
  }
  const pathParams = new Set(paramsOf(path));
  const queryFields = new Set(contract.http.query ?? []);
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(input[name])));

  const search = new URLSearchParams();
  const body: Record<string, unknown> = {};
  const headerOf = new Map(Object.entries(contract.http.headers ?? {}));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined || pathParams.has(name)) continue;
    const header = headerOf.get(name);
    if (header !== undefined) {
      headers[header] = String(value);
    } else if (queryFields.has(name)) {
      for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
    } else {
      body[name] = value;
    }
  }
  const hasBody = contract.http.method !== 'GET' && contract.http.method !== 'DELETE';
  if (!hasBody) {
    const stray = Object.keys(body);
    if (stray.length > 0) throw new TypeError(`${contract.meta.key}: ${stray.join(', ')} cannot be sent with ${contract.http.method} ${contract.http.path}`);
  }
  const qs = search.toString();
  return {
    method: contract.http.method,
    url: qs ? `${filled}?${qs}` : filled,
    body: hasBody ? body : undefined,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}
