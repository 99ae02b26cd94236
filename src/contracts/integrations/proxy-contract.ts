import { z } from 'zod';
import type { LatchkeyErrorCode } from '../../errors.js';
import type { ContractMeta, ContractPolicy } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { ConnectionId, IntegrationKey } from '../shared-schemas.js';

const meta = metaFor(OWNERS.integrations, ['integration', 'connections', 'proxy']);

/** The methods the proxy forwards. */
export const PROXY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type ProxyMethod = (typeof PROXY_METHODS)[number];

/**
 * A streaming operation: bodies pass through as bytes in both directions, so it cannot run
 * through the registry's JSON pipeline (parse → handler → output check). It keeps the
 * contract's declarations (meta, policy, the input the path carries) for docs and OpenAPI,
 * and is served by its own route (src/proxy/proxy-route.ts), which authenticates,
 * authorizes against `policy` and audits exactly as the registry does.
 */
export interface StreamingContract<I extends z.ZodType = z.ZodType> {
  kind: 'command';
  meta: ContractMeta;
  /**
   * `input`: what the request URL carries; `response`: what a successful call answers with
   * (bytes, not a schema); `errors`: the problems Latchkey itself may answer with.
   */
  io: { input: I; response: string; errors: LatchkeyErrorCode[] };
  policy: ContractPolicy;
  http: { stream: true; methods: readonly ProxyMethod[]; path: string };
}

/**
 * `ANY /v1/proxy/{key}/{id}/{path}` — forwards a request to the provider's API with the
 * connection's credentials injected server-side.
 *
 * Deliberately not in `ALL_CONTRACTS` (whose surfaces are JSON-only: the generated client
 * methods, CLI commands, MCP tools, role-matrix and fuzz suites) but in
 * `STREAMING_CONTRACTS`; the HTTP server registers its route and merges its OpenAPI
 * description (src/proxy/proxy-openapi.ts), and the client's `proxy()`, the CLI's
 * `latchkey proxy` and the reference page are derived from this declaration. It is not an
 * MCP tool (see `NEVER_EXPOSED_AS_TOOLS`).
 *
 * @example
 * ```ts
 * // GET https://api.github.com/user with the connection's token:
 * await fetch(`${latchkey}/v1/proxy/github-prod/user-42/user`, { headers: { authorization: `Bearer ${runtimeKey}` } });
 * ```
 */
export const ProxyRequest: StreamingContract = {
  kind: 'command',
  meta: meta(
    'integrations.proxy',
    'Proxy a request to the provider',
    'Forward any HTTP request to the provider\'s API base URL with the connection\'s credentials injected server-side (Bearer, API-key header or query parameter, Basic; OAuth tokens minted and refreshed as needed). Method, query, safe headers, status and bodies pass through, streamed in both directions.',
    'Let a workload call a customer\'s third-party API without ever holding the customer\'s credentials.',
    'The path after the connection id is appended to the provider\'s base URL; the request can go nowhere else: dot segments (also `..;` and double-encoded), encoded slashes or backslashes, absolute URLs and `//host` are refused with 400 before anything is sent, and redirects are returned as they are, never followed. The caller\'s own Authorization, X-API-Key and Cookie headers, hop-by-hop headers and X-Forwarded-* are never forwarded; Set-Cookie is never returned, and an injected credential never comes back in a response header (a query key is removed from Location, Link and the like; any other occurrence is redacted). An OAuth connection whose provider answers 401 is refreshed once and the request retried once, when its body could be replayed (none, or at most 64 KiB). Upstream failures are 502 `upstream_failed`, silence beyond LATCHKEY_PROXY_TIMEOUT_MS, or a response head taking longer than that, is 504 `upstream_timeout`; a disabled integration or connection is 409. Every call is audited (never the credentials, the path or the query).',
  ),
  io: {
    input: z.strictObject({
      key: IntegrationKey,
      id: ConnectionId,
      path: z.string().describe('Path (and query) below the provider\'s base URL, forwarded as sent'),
    }),
    response: 'The provider\'s response, relayed as it came: status (3xx included, never followed), safe headers and body, streamed. Provider errors pass through untouched; only Latchkey\'s own refusals are problem+json documents whose requestId matches the X-Request-Id header.',
    errors: ['bad_request', 'not_found', 'forbidden', 'conflict', 'payload_too_large', 'validation_failed', 'upstream_failed', 'upstream_timeout'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.use')] },
  http: { stream: true, methods: PROXY_METHODS, path: '/v1/proxy/{key}/{id}/{path}' },
};
