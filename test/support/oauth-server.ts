import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors } from 'oidc-provider';

/** The one resource server the test authorization server issues tokens for. */
export const RESOURCE = 'https://api.latchkey.test/';
export const TEST_USER = { username: 'ada', password: 'correct horse battery staple' };

export interface OAuthServerOptions {
  clientId?: string;
  clientSecret?: string;
  /** Where Latchkey's callback is (its public URL + /oauth/callback). */
  redirectUri: string;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** Access token lifetime in seconds. */
  accessTokenTtl?: number;
  /** Strict refresh-token rotation: each refresh token works once (reuse revokes the grant). */
  rotateRefreshToken?: boolean;
  pkceRequired?: boolean;
}

export interface OAuthServer {
  issuer: string;
  authorizationUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Requests that reached the token endpoint: grant type, whether HTTP Basic client auth was used, and the parsed parameters. */
  tokenRequests: { grantType: string; authorization: boolean; body: string }[];
  /** How the next consent is answered. */
  consent: 'approve' | 'deny';
  /** While set, the token endpoint answers with this status (simulated outage). */
  failTokenEndpointWith: number | null;
  /** Delay before the token endpoint answers, in ms. */
  tokenDelayMs: number;
  /** Whether an access token is currently valid, asked of the provider itself (introspection). */
  isActive(accessToken: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A real OAuth 2.0 authorization server (oidc-provider) on 127.0.0.1, configured like a
 * typical SaaS provider: authorization code with PKCE, refresh tokens (optionally with
 * strict rotation), client credentials, and a password grant registered the way
 * oidc-provider documents custom grants. Consent is answered without a UI (approve or
 * deny), and every token request is counted at the socket, before the provider sees it.
 */
export async function startOAuthServer(opts: OAuthServerOptions): Promise<OAuthServer> {
  const clientId = opts.clientId ?? 'latchkey-test-client';
  const clientSecret = opts.clientSecret ?? 'test-client-secret-0123456789abcdef';
  const http: Server = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const ttl = opts.accessTokenTtl ?? 3600;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [opts.redirectUri],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'password'],
        response_types: ['code'],
        token_endpoint_auth_method: opts.tokenEndpointAuthMethod ?? 'client_secret_basic',
        scope: 'openid offline_access read write',
      },
    ],
    scopes: ['openid', 'offline_access', 'read', 'write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'read write', accessTokenFormat: 'opaque', accessTokenTTL: ttl }),
      },
    },
    pkce: { required: () => opts.pkceRequired ?? true },
    issueRefreshToken: async (_ctx: unknown, client: any) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: opts.rotateRefreshToken ?? false,
    ttl: { AccessToken: ttl, ClientCredentials: ttl, RefreshToken: 14 * 24 * 3600, Grant: 14 * 24 * 3600, Interaction: 600, Session: 3600, AuthorizationCode: 60 },
    interactions: { url: (_ctx: unknown, interaction: any) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    cookies: { keys: ['latchkey-test-cookie-key'] },
  });

  const server: OAuthServer = {
    issuer,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    clientId,
    clientSecret,
    tokenRequests: [],
    consent: 'approve',
    failTokenEndpointWith: null,
    tokenDelayMs: 0,
    async isActive(accessToken) {
      const found = (await provider.AccessToken.find(accessToken)) ?? (await provider.ClientCredentials.find(accessToken));
      return Boolean(found && !found.isExpired);
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };

  // ROPC, registered as a custom grant (oidc-provider does not ship the deprecated grant).
  provider.registerGrantType(
    'password',
    async (ctx: any) => {
      const { username, password } = ctx.oidc.params;
      if (username !== TEST_USER.username || password !== TEST_USER.password) throw new errors.InvalidGrant('wrong username or password');
      const grant = new provider.Grant({ accountId: username, clientId: ctx.oidc.client.clientId });
      grant.addResourceScope(RESOURCE, 'read write');
      const grantId = await grant.save();
      const token = new provider.AccessToken({ accountId: username, client: ctx.oidc.client, grantId, gty: 'password', scope: 'read write' });
      token.resourceServer = new provider.ResourceServer(RESOURCE, { scope: 'read write', accessTokenFormat: 'opaque', accessTokenTTL: ttl });
      const value = await token.save();
      ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope: 'read write' };
    },
    ['username', 'password', 'scope'],
  );

  // Koa middleware in front of the provider's routes: counts token requests as they arrive
  // (the grant type is read once the provider has parsed the body) and can fake an outage.
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.path !== '/token' || ctx.method !== 'POST') return next();
    const entry = { grantType: '', authorization: Boolean(ctx.headers.authorization), body: '' };
    server.tokenRequests.push(entry);
    if (server.tokenDelayMs > 0) await new Promise((r) => setTimeout(r, server.tokenDelayMs));
    if (server.failTokenEndpointWith !== null) {
      ctx.status = server.failTokenEndpointWith;
      ctx.type = 'text/html';
      ctx.body = '<h1>upstream trouble</h1>';
      return;
    }
    await next();
    entry.grantType = String(ctx.oidc?.params?.grant_type ?? '');
    entry.body = new URLSearchParams(Object.entries(ctx.oidc?.params ?? {}).filter(([, v]) => typeof v === 'string') as [string, string][]).toString();
  });

  const callback = provider.callback();
  http.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', issuer);
      if (url.pathname.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        let result: Record<string, unknown>;
        if (server.consent === 'deny') {
          result = { error: 'access_denied', error_description: 'the user said no' };
        } else {
          const params = details.params as Record<string, string>;
          const grant = new provider.Grant({ accountId: TEST_USER.username, clientId: params.client_id! });
          const scopes = (params.scope ?? '').split(' ').filter(Boolean);
          // Grant what was asked: as OpenID scopes for the provider, and for the API resource.
          if (scopes.length) grant.addOIDCScope(scopes.join(' '));
          grant.addResourceScope(RESOURCE, scopes.filter((s) => s === 'read' || s === 'write').join(' ') || 'read');
          result = { login: { accountId: TEST_USER.username }, consent: { grantId: await grant.save() } };
        }
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
        return;
      }
      callback(req, res);
    } catch (error) {
      res.writeHead(500).end(String((error as Error).message));
    }
  });
  return server;
}

/**
 * Plays the end user's browser: follows redirects from `start` with a cookie jar until a
 * URL starting with `stopAt` comes up, and returns that URL (not fetched).
 */
export async function browse(start: string, stopAt: string, maxHops = 20): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(start);
  for (let hop = 0; hop < maxHops; hop++) {
    if (url.toString().startsWith(stopAt)) return url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    if (!location || res.status < 300 || res.status >= 400) {
      throw new Error(`browse: ${url} answered ${res.status} without a redirect: ${(await res.text()).slice(0, 300)}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    url = new URL(location, url);
  }
  throw new Error('browse: too many redirects');
}
