import type { LatchkeyConfig } from '../../src/config.js';
import type { CreateOptions } from '../../src/app.js';
import { type EngineName, type TestServer, startTestServer } from '../support/harness.js';
import { type OAuthServer, type OAuthServerOptions, browse, startOAuthServer } from '../support/oauth-server.js';

export const APP_RETURN = 'https://app.example.test/connected';

export interface OAuthWorld {
  s: TestServer;
  as: OAuthServer;
  close(): Promise<void>;
}

/** A listening Latchkey (private networks allowed, sweep off) beside a real authorization server aimed at its callback. */
export async function startOAuthWorld(
  opts: { engine?: EngineName; as?: Partial<OAuthServerOptions>; config?: Partial<LatchkeyConfig>; create?: CreateOptions } = {},
): Promise<OAuthWorld> {
  const s = await startTestServer({
    engine: opts.engine ?? 'sqlite',
    listen: true,
    config: { allowPrivateNetworks: true, refreshSweepMs: 0, logLevel: 'debug', ...opts.config },
    ...(opts.create ? { create: opts.create } : {}),
  });
  const as = await startOAuthServer({ redirectUri: `${s.baseUrl}/oauth/callback`, ...opts.as });
  return {
    s,
    as,
    async close() {
      await as.close();
      await s.close();
    },
  };
}

/** A generic `oauth2` integration pointed at the test authorization server. */
export function oauthIntegration(as: OAuthServer, key = 'acme', extra: { authMethod?: string; config?: Record<string, unknown>; secrets?: Record<string, string> } = {}) {
  return {
    key,
    provider: 'oauth2',
    displayName: 'Acme (test AS)',
    authMethod: extra.authMethod ?? 'oauth2',
    config: {
      ...(extra.authMethod && extra.authMethod !== 'oauth2' ? {} : { authorizationUrl: as.authorizationUrl }),
      tokenUrl: as.tokenUrl,
      baseUrl: `${as.issuer}/api`,
      defaultScopes: 'read write offline_access',
      clientId: as.clientId,
      ...extra.config,
    },
    secrets: { clientSecret: as.clientSecret, ...extra.secrets },
  };
}

/**
 * Creates a connect session and plays the user through consent; returns where they land.
 * `browse` keeps a cookie jar, so the browser-binding cookie the link sets comes back
 * with the callback, as in a real browser.
 */
export async function connectThroughBrowser(w: OAuthWorld, integration: string, connectionId: string, body: Record<string, unknown> = {}): Promise<URL> {
  const created = await w.s.request('POST', '/v1/connect/sessions', { body: { integration, connectionId, redirectUrl: APP_RETURN, ...body } });
  if (created.status !== 201) throw new Error(`connect session: ${created.status} ${created.text}`);
  return browse(created.body.connectUrl, APP_RETURN);
}

/**
 * Opens a connect link in one browser and plays consent up to Latchkey's callback
 * (not fetched). Returns the callback URL, the `cookie` header that browser sends with it
 * (the binding cookie the link set) and the raw `Set-Cookie` of the link's answer.
 */
export async function openUntilCallback(w: OAuthWorld, connectUrl: string): Promise<{ callback: URL; cookie: string; setCookie: string[] }> {
  const opened = await fetch(connectUrl, { redirect: 'manual' });
  const location = opened.headers.get('location');
  if (opened.status !== 302 || !location) throw new Error(`connect link answered ${opened.status}: ${(await opened.text()).slice(0, 300)}`);
  const setCookie = opened.headers.getSetCookie();
  const cookie = setCookie.map((c) => c.split(';')[0]!).join('; ');
  return { callback: await browse(location, `${w.s.baseUrl}/oauth/callback`), cookie, setCookie };
}
