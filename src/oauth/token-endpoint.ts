import * as oauth from 'oauth4webapi';
import { DestinationRefusedError } from '../net/destination-refused-error.js';
import type { OutboundGuard } from '../net/outbound-guard.js';
import { guardedFetch } from './guarded-fetch.js';
import type { OAuthSettings } from './oauth-settings.js';

/** Tokens as Latchkey stores them (SPEC canonical credential fields). */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: string | null;
  scopes: string[] | null;
  tokenType: string;
}

/**
 * Why a grant failed: `invalid_grant` (the refresh token or code is dead — reconnect),
 * `rejected` (the provider refused the client or request — a configuration problem), or
 * `transient` (5xx, 429, network, timeout — worth retrying).
 */
export type GrantFailureKind = 'invalid_grant' | 'rejected' | 'transient';

export class GrantFailure extends Error {
  override readonly name = 'GrantFailure';
  constructor(
    readonly kind: GrantFailureKind,
    /** The OAuth `error` code or a short reason; never a token or secret. */
    readonly reason: string,
    readonly httpStatus: number | null,
  ) {
    super(`token endpoint: ${kind} (${reason}${httpStatus ? `, HTTP ${httpStatus}` : ''})`);
  }
}

export interface TokenEndpointOptions {
  guard: OutboundGuard;
  timeoutMs: number;
  /** Allow `http://` endpoints (development and tests on loopback only). */
  allowInsecure: boolean;
}

/**
 * Grants against one integration's token endpoint with oauth4webapi: code exchange,
 * refresh, client credentials and the (deprecated) resource-owner password grant. Every
 * request goes through the outbound guard; failures come back as {@link GrantFailure}.
 *
 * @example
 * ```ts
 * const tokens = await new TokenEndpoint(settings, clientSecret, opts).refresh(refreshToken);
 * ```
 */
export class TokenEndpoint {
  private readonly as: oauth.AuthorizationServer;
  private readonly client: oauth.Client;
  private readonly auth: oauth.ClientAuth;

  constructor(
    private readonly settings: OAuthSettings,
    clientSecret: string | undefined,
    private readonly opts: TokenEndpointOptions,
  ) {
    // Latchkey does not use discovery; the token URL's origin stands in for the issuer.
    this.as = {
      issuer: new URL(settings.tokenUrl).origin,
      token_endpoint: settings.tokenUrl,
      ...(settings.authorizationUrl ? { authorization_endpoint: settings.authorizationUrl } : {}),
    };
    this.client = { client_id: settings.clientId };
    this.auth = !clientSecret ? oauth.None() : settings.tokenEndpointAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(clientSecret) : oauth.ClientSecretBasic(clientSecret);
  }

  private requestOptions() {
    return {
      [oauth.customFetch]: tokenResponseNormalizer(guardedFetch(this.opts.guard, this.opts.timeoutMs)),
      [oauth.allowInsecureRequests]: this.opts.allowInsecure,
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    };
  }

  /**
   * Exchanges an authorization code (with its PKCE verifier, if one was sent). The caller
   * has matched `state` to its session already; only the code and state are passed on, so
   * a provider's `iss` parameter is not checked against an issuer we never discovered.
   */
  async exchangeCode(code: string, state: string, redirectUri: string, codeVerifier: string | null): Promise<TokenSet> {
    return this.grant(async () => {
      const callbackParams = oauth.validateAuthResponse(this.as, this.client, new URLSearchParams({ code, state }), state);
      const res = await oauth.authorizationCodeGrantRequest(this.as, this.client, this.auth, callbackParams, redirectUri, codeVerifier ?? oauth.nopkce, this.requestOptions());
      return oauth.processAuthorizationCodeResponse(this.as, this.client, res);
    });
  }

  async refresh(refreshToken: string): Promise<TokenSet> {
    return this.grant(async () => {
      const res = await oauth.refreshTokenGrantRequest(this.as, this.client, this.auth, refreshToken, this.requestOptions());
      return oauth.processRefreshTokenResponse(this.as, this.client, res);
    });
  }

  async clientCredentials(): Promise<TokenSet> {
    return this.grant(async () => {
      const res = await oauth.clientCredentialsGrantRequest(this.as, this.client, this.auth, this.scopeParams(), this.requestOptions());
      return oauth.processClientCredentialsResponse(this.as, this.client, res);
    });
  }

  /** RFC 6749 §4.3. Deprecated by OAuth 2.1; kept for services that offer nothing else. */
  async password(username: string, password: string): Promise<TokenSet> {
    return this.grant(async () => {
      const params = this.scopeParams();
      params.set('username', username);
      params.set('password', password);
      const res = await oauth.genericTokenEndpointRequest(this.as, this.client, this.auth, 'password', params, this.requestOptions());
      return oauth.processGenericTokenEndpointResponse(this.as, this.client, res);
    });
  }

  private scopeParams(): URLSearchParams {
    const params = new URLSearchParams();
    if (this.settings.scopes.length > 0) params.set('scope', this.settings.scopes.join(this.settings.scopeSeparator));
    return params;
  }

  private async grant(run: () => Promise<oauth.TokenEndpointResponse>): Promise<TokenSet> {
    let response: oauth.TokenEndpointResponse;
    try {
      response = await run();
    } catch (error) {
      throw classify(error);
    }
    return {
      accessToken: response.access_token,
      refreshToken: response.refresh_token ?? null,
      expiresAt: typeof response.expires_in === 'number' ? new Date(Date.now() + response.expires_in * 1000).toISOString() : null,
      scopes: typeof response.scope === 'string' ? response.scope.split(/[\s,]+/).filter(Boolean) : this.settings.scopes.length > 0 ? this.settings.scopes : null,
      tokenType: 'bearer',
    };
  }
}

const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'server_error', 'slow_down']);

/** Maps whatever the exchange threw to a {@link GrantFailure} without keeping response bodies (they may hold tokens). */
function classify(error: unknown): GrantFailure {
  if (error instanceof GrantFailure) return error;
  if (error instanceof oauth.ResponseBodyError) {
    if (error.error === 'invalid_grant') return new GrantFailure('invalid_grant', 'invalid_grant', error.status);
    const transient = error.status >= 500 || error.status === 429 || TRANSIENT_OAUTH_ERRORS.has(error.error);
    return new GrantFailure(transient ? 'transient' : 'rejected', safeCode(error.error), error.status);
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) return new GrantFailure('rejected', 'invalid_client', error.status);
  if (error instanceof DestinationRefusedError) return new GrantFailure('rejected', 'destination_refused', null);
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    const cause = (error as { cause?: unknown }).cause;
    const status = cause instanceof Response ? cause.status : null;
    if (status !== null && (status >= 500 || status === 429)) return new GrantFailure('transient', `http_${status}`, status);
    return new GrantFailure('rejected', status !== null ? `http_${status}` : 'invalid_response', status);
  }
  // Network errors, timeouts and aborts: the provider may be fine a moment later.
  const code = (error as { code?: unknown }).code;
  return new GrantFailure('transient', typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code.toLowerCase() : 'network_error', null);
}

const safeCode = (code: string): string => (/^[a-z0-9_.-]{1,64}$/i.test(code) ? code : 'oauth_error');

type Fetch = ReturnType<typeof guardedFetch>;

/**
 * Latchkey stores tokens; it does not sign users in. So a successful token response is
 * normalised before oauth4webapi reads it: an `id_token` is dropped (its issuer cannot be
 * checked without discovery, and it is never used), and a missing or provider-specific
 * `token_type` (Slack's `bot`) is read as `bearer`, which is how every catalog provider
 * takes the token.
 */
function tokenResponseNormalizer(fetch: Fetch): Fetch {
  return async (url, options) => {
    const res = await fetch(url, options);
    if (res.status !== 200 || !(res.headers.get('content-type') ?? '').includes('json')) return res;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return new Response(text, { status: res.status, headers: res.headers });
    }
    if (json && typeof json === 'object' && !Array.isArray(json) && typeof (json as Record<string, unknown>).access_token === 'string') {
      const body = json as Record<string, unknown>;
      delete body.id_token;
      const type = typeof body.token_type === 'string' ? body.token_type.toLowerCase() : '';
      if (type !== 'bearer' && type !== 'dpop') body.token_type = 'bearer';
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    return new Response(text, { status: res.status, headers: res.headers });
  };
}
