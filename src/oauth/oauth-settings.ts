import { LatchkeyError } from '../errors.js';
import type { ProviderDefinition } from '../providers/provider-schema.js';
import { fillUrlTemplate } from '../testers/provider-url.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** Everything needed to talk to one integration's authorization server. */
export interface OAuthSettings {
  authorizationUrl: string | null;
  tokenUrl: string;
  scopes: string[];
  scopeSeparator: string;
  pkce: boolean;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  authorizationParams: Record<string, string>;
  clientId: string;
}

const misconfigured = (message: string) => new LatchkeyError('conflict', `the integration's OAuth settings are incomplete: ${message}`, { reason: 'oauth_misconfigured' });

function scopesFrom(value: unknown, separator: string): string[] | null {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value !== 'string' || value.trim() === '') return null;
  // Integrations may list scopes with spaces or the provider's own separator.
  return value.split(separator === ' ' ? /\s+/ : new RegExp(`[\\s${separator.replace(/[\\^\]-]/g, '\\$&')}]+`)).filter(Boolean);
}

/**
 * The OAuth settings of an integration: the catalog's for a known provider (URL templates
 * filled from the integration's config, e.g. `{tenantId}`), or the integration's own config
 * for the generic `oauth2` provider. Scopes come from the integration (`scopes`, or
 * `defaultScopes` for the generic provider), else the provider's defaults.
 *
 * @example
 * ```ts
 * const s = oauthSettingsOf(catalog.get('github')!, { clientId: 'Iv1.abc', scopes: 'repo' });
 * s.tokenUrl; // 'https://github.com/login/oauth/access_token'
 * ```
 */
export function oauthSettingsOf(provider: ProviderDefinition, config: Record<string, unknown>): OAuthSettings {
  const valueOf = (name: string): unknown => {
    const v = config[name];
    if (v !== undefined && v !== null && v !== '') return v;
    return provider.parameters.find((p) => p.name === name)?.defaultValue;
  };
  const clientId = valueOf('clientId');
  if (typeof clientId !== 'string' || clientId === '') throw misconfigured('clientId is not set');
  if (provider.oauth) {
    const o = provider.oauth;
    const separator = o.scopeSeparator;
    return {
      authorizationUrl: fillUrlTemplate(o.authorizationUrl, valueOf, misconfigured),
      tokenUrl: fillUrlTemplate(o.tokenUrl, valueOf, misconfigured),
      scopes: scopesFrom(valueOf('scopes'), separator) ?? o.defaultScopes,
      scopeSeparator: separator,
      pkce: o.pkce,
      tokenEndpointAuthMethod: o.tokenEndpointAuthMethod,
      authorizationParams: o.authorizationParams ?? {},
      clientId,
    };
  }
  if (!provider.generic) throw misconfigured(`provider ${provider.key} declares no OAuth endpoints`);
  const tokenUrl = valueOf('tokenUrl');
  if (typeof tokenUrl !== 'string' || tokenUrl === '') throw misconfigured('tokenUrl is not set');
  const authorizationUrl = valueOf('authorizationUrl');
  const separator = typeof valueOf('scopeSeparator') === 'string' ? (valueOf('scopeSeparator') as string) : ' ';
  const extra = valueOf('authorizationParams');
  const authorizationParams: Record<string, string> = {};
  if (extra && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const [k, v] of Object.entries(extra)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') authorizationParams[k] = String(v);
  }
  const method = valueOf('tokenEndpointAuthMethod');
  return {
    authorizationUrl: typeof authorizationUrl === 'string' && authorizationUrl !== '' ? authorizationUrl : null,
    tokenUrl,
    scopes: scopesFrom(valueOf('defaultScopes'), separator) ?? [],
    scopeSeparator: separator,
    pkce: valueOf('pkce') !== false,
    tokenEndpointAuthMethod: method === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic',
    authorizationParams,
    clientId,
  };
}
