import type { OutgoingHttpHeaders } from 'node:http';
import type { AuditActor } from '../audit/audit-log.js';
import type { Services } from '../domain/services.js';
import { LatchkeyError } from '../errors.js';
import { TokenService } from '../oauth/token-service.js';
import type { AuthMethod, CredentialType, ProviderDefinition } from '../providers/provider-schema.js';
import type { ConnectionTable, IntegrationTable } from '../store/schema.js';
import type { TestCredentials, TestTarget } from '../testers/connection-tester.js';
import { injectCredentials, oauth1Credentials, resolveInjection } from '../testers/credential-injection.js';
import { OAuth1ParameterError, oauth1Authorization } from '../testers/oauth1-signature.js';
import { fillBaseUrl } from '../testers/provider-url.js';
import { collectSecrets } from '../testers/secret-scrubber.js';
import { TestFailure } from '../testers/test-result.js';
import { withQueryParam } from './proxy-path.js';
import { type SentCredentials, secretForms } from './response-scrub.js';

/** Credential types the proxy can put on a request (SigV4, key files and custom credentials it cannot). */
const PROXIED_TYPES = new Set<string>(['api_key', 'pat', 'basic', 'oauth1', 'oauth2', 'oauth2_client_credentials', 'oauth2_password']);

/** One connection as the proxy uses it: rows, provider, and parsed config. */
export interface ProxyConnection {
  integration: IntegrationTable;
  row: ConnectionTable;
  provider: ProviderDefinition;
  target: Omit<TestTarget, 'credentials'>;
}

export interface ProxyCaller {
  actor: AuditActor;
  requestId: string | null;
}

/** Turns a tester's configuration failure into a 409 the caller can act on (its messages carry no values). */
function misconfigured(error: unknown): never {
  if (error instanceof TestFailure) throw new LatchkeyError('conflict', error.message, { reason: 'proxy_misconfigured' });
  throw error;
}

/**
 * Assembles what the proxy needs from the integration and connection rows; refuses (409)
 * a disabled integration or connection and credential types it cannot inject.
 */
export function proxyConnection(services: Services, integration: IntegrationTable, row: ConnectionTable): ProxyConnection {
  if (integration.enabled !== 1) throw new LatchkeyError('conflict', `integration "${integration.key}" is disabled`, { reason: 'integration_disabled' });
  if (row.enabled !== 1) throw new LatchkeyError('conflict', `connection "${row.id}" is disabled`, { reason: 'connection_disabled' });
  const provider = services.catalog.get(integration.provider);
  if (!provider) throw new LatchkeyError('conflict', `provider ${integration.provider} is no longer in the catalog`, { reason: 'provider_missing' });
  if (!PROXIED_TYPES.has(row.credential_type)) {
    throw new LatchkeyError('conflict', `the proxy cannot use ${row.credential_type} credentials; use a minted token or the provider's own client`, { reason: 'proxy_unsupported' });
  }
  return {
    integration,
    row,
    provider,
    target: {
      provider,
      authMethod: integration.auth_method as AuthMethod,
      integrationConfig: JSON.parse(integration.config) as Record<string, unknown>,
      connectionConfig: JSON.parse(row.config) as Record<string, unknown>,
    },
  };
}

/**
 * The provider's API base URL for this connection: the catalog's `baseUrl` template filled
 * from the connection's and integration's config (the generic providers take all of it from
 * `config.baseUrl`). 409 when there is none, or it is not an http(s) URL without credentials.
 *
 * @example
 * ```ts
 * proxyBaseUrl(conn).href; // 'https://acme.zendesk.com/api/v2'
 * ```
 */
export function proxyBaseUrl(conn: ProxyConnection): URL {
  const template = conn.provider.baseUrl;
  if (!template) throw new LatchkeyError('conflict', `provider ${conn.provider.key} has no HTTP API to proxy to`, { reason: 'proxy_unsupported' });
  let base: URL;
  try {
    base = new URL(fillBaseUrl(template, { ...conn.target, credentials: { type: conn.row.credential_type as CredentialType, fields: {} } }));
  } catch (error) {
    if (error instanceof TestFailure) misconfigured(error);
    throw new LatchkeyError('conflict', 'the provider\'s base URL is not a valid URL', { reason: 'proxy_misconfigured' });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new LatchkeyError('conflict', 'the provider\'s base URL must be http or https', { reason: 'proxy_misconfigured' });
  if (base.username || base.password) throw new LatchkeyError('conflict', 'the provider\'s base URL must not contain credentials', { reason: 'proxy_misconfigured' });
  base.hash = '';
  return base;
}

/** True for connections whose access token comes from the token service (and may be refreshed after a 401). */
export const usesOAuth = (conn: ProxyConnection): boolean => TokenService.manages(conn.row);

/** True for connections whose every request is signed (OAuth 1.0a): the signature covers the query and a form body. */
export const signsRequests = (conn: ProxyConnection): boolean => conn.row.credential_type === 'oauth1';

/**
 * The connection's usable credentials: a minted (and, when due or `force`d, refreshed)
 * access token for OAuth connections, else the stored secrets, decrypted; for OAuth 1.0a
 * with the integration's `consumerSecret` beside the token pair (the signing key needs both).
 */
export async function proxyCredentials(services: Services, conn: ProxyConnection, caller: ProxyCaller, opts: { force?: boolean } = {}): Promise<TestCredentials> {
  const type = conn.row.credential_type as CredentialType;
  if (usesOAuth(conn)) {
    const token = await services.tokens.mint(conn.integration, conn.row, caller, opts);
    return { type, fields: { accessToken: token.accessToken } };
  }
  const fields = await services.secrets.read(services.store.db, conn.row.tenant_id, 'connection', conn.row.uid);
  if (type === 'oauth1') {
    const { consumerSecret } = await services.secrets.read(services.store.db, conn.integration.tenant_id, 'integration', conn.integration.uid);
    return { type, fields: { ...fields, consumerSecret } };
  }
  return { type, fields };
}

/** The request the proxy is about to send: what an OAuth 1.0a signature covers. */
export interface OutgoingRequest {
  method: string;
  /** Origin of the request (its scheme, host and port are signed). */
  url: URL;
  /** The exact request target (raw path and query), before credentials are applied. */
  requestTarget: string;
  /** The buffered `application/x-www-form-urlencoded` body, whose parameters are signed; else `null`. */
  formBody: Buffer | null;
}

/** The request target to send, and what was injected into it (never to be relayed back). */
export interface AppliedCredentials {
  requestTarget: string;
  sent: SentCredentials;
}

/**
 * Puts the credentials on the outgoing request the way the provider declares (reusing the
 * connection tester's injection: Bearer, API-key header with prefix, Basic, a query
 * parameter, or an OAuth 1.0a HMAC-SHA1 signature). Headers are set on `headers` (replacing
 * any the caller sent under the same name); a query credential replaces the caller's
 * parameter of that name without re-encoding the rest. Returns the request target to send
 * and what was sent, for `scrubInjectedCredentials` to keep out of the response.
 *
 * A header injection into a hop-by-hop, framing or routing header (`Host`,
 * `Content-Length`, `Transfer-Encoding`, …) is refused (409 `proxy_misconfigured`) even
 * though config validation refuses such names already: it would let the config smuggle a
 * request onto a pooled socket, so a stored value from before that check must not reach one.
 *
 * An OAuth 1.0a signature is computed here, per call (a fresh nonce and timestamp each
 * time a request is sent), over `request` exactly as it goes out: method, origin, the raw
 * request target and a form body's parameters. `oauth_*` parameters of the caller's own
 * are a 400 (`proxy_oauth1_parameter`): the protocol parameters travel once, in the header.
 *
 * @example
 * ```ts
 * const { requestTarget, sent } = applyCredentials(conn, credentials, { method: 'GET', url, requestTarget: '/v1/charges?limit=3', formBody: null }, headers);
 * ```
 */
export function applyCredentials(conn: ProxyConnection, credentials: TestCredentials, request: OutgoingRequest, headers: OutgoingHttpHeaders): AppliedCredentials {
  const { requestTarget } = request;
  const target: TestTarget = { ...conn.target, credentials };
  const injected: Record<string, string> = {};
  const scratch = new URL('http://proxy.invalid/');
  try {
    const injection = resolveInjection(target);
    if (injection.style === 'oauth1') {
      headers.authorization = signed(target, request);
      return { requestTarget, sent: sentCredentials(credentials, [headers.authorization], null) };
    }
    // Refuses a reserved header name (TestFailure → 409 proxy_misconfigured below).
    injectCredentials(target, scratch, injected);
    Object.assign(headers, injected);
    const value = injection.style === 'query' ? scratch.searchParams.get(injection.param) : null;
    if (injection.style !== 'query' || value === null) return { requestTarget, sent: sentCredentials(credentials, Object.values(injected), null) };
    const q = requestTarget.indexOf('?');
    const path = q === -1 ? requestTarget : requestTarget.slice(0, q);
    return {
      requestTarget: `${path}?${withQueryParam(q === -1 ? '' : requestTarget.slice(q + 1), injection.param, value)}`,
      sent: sentCredentials(credentials, [value], injection.param),
    };
  } catch (error) {
    return misconfigured(error);
  }
}

/**
 * Every secret that went out or backs what went out: the injected header values (whole,
 * and after a scheme such as `Bearer `/`Basic `), the query value, and the connection's
 * secret fields (a provider may echo a decoded Basic password, say).
 */
function sentCredentials(credentials: TestCredentials, injectedValues: readonly string[], queryParam: string | null): SentCredentials {
  const values: string[] = [];
  for (const value of injectedValues) {
    values.push(value);
    const space = value.indexOf(' ');
    if (space !== -1) values.push(value.slice(space + 1));
  }
  // The same notion of "secret" as the connection tester's scrubber (token metadata aside).
  values.push(...collectSecrets(credentials));
  return { queryParam, values: secretForms(values) };
}

function signed(target: TestTarget, request: OutgoingRequest): string {
  try {
    return oauth1Authorization({ method: request.method, origin: request.url, target: request.requestTarget, formBody: request.formBody }, oauth1Credentials(target));
  } catch (error) {
    if (!(error instanceof OAuth1ParameterError)) throw error;
    throw new LatchkeyError('bad_request', "the query or form body carries oauth_* parameters; the proxy signs this connection's requests with OAuth 1.0a and sends the protocol parameters itself", {
      reason: 'proxy_oauth1_parameter',
    });
  }
}
