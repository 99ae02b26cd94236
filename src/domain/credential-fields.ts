import { type AuthMethod, type CredentialType, DEPRECATED_METHODS, type ProviderDefinition } from '../providers/provider-schema.js';

/**
 * Canonical credential fields per type (SPEC section 4), the same names on every surface.
 * `secret` fields are write-only and encrypted; the others (`expiresAt`, `scopes`,
 * `tokenType`) are token metadata kept in plain columns and shown on the record.
 */
export interface CredentialField {
  name: string;
  secret: boolean;
  required: boolean;
  kind: 'string' | 'datetime' | 'string[]';
}

const s = (name: string, required = false): CredentialField => ({ name, secret: true, required, kind: 'string' });

const CANONICAL: Record<Exclude<CredentialType, 'custom'>, CredentialField[]> = {
  oauth2: [
    s('accessToken', true),
    s('refreshToken'),
    { name: 'expiresAt', secret: false, required: false, kind: 'datetime' },
    { name: 'scopes', secret: false, required: false, kind: 'string[]' },
    { name: 'tokenType', secret: false, required: false, kind: 'string' },
  ],
  // Minted on demand from the integration's client; a connection may hold a cached token.
  oauth2_client_credentials: [
    s('accessToken'),
    { name: 'expiresAt', secret: false, required: false, kind: 'datetime' },
    { name: 'scopes', secret: false, required: false, kind: 'string[]' },
    { name: 'tokenType', secret: false, required: false, kind: 'string' },
  ],
  oauth2_password: [
    s('username', true),
    s('password', true),
    s('accessToken'),
    s('refreshToken'),
    { name: 'expiresAt', secret: false, required: false, kind: 'datetime' },
    { name: 'scopes', secret: false, required: false, kind: 'string[]' },
    { name: 'tokenType', secret: false, required: false, kind: 'string' },
  ],
  oauth1: [s('token', true), s('tokenSecret', true)],
  api_key: [s('apiKey', true)],
  pat: [s('token', true)],
  basic: [s('username', true), s('password')],
  key_file: [s('username', true), s('privateKey', true), s('passphrase')],
  aws_sigv4: [s('accessKeyId', true), s('secretAccessKey', true), s('sessionToken')],
};

/** Fields of a credential type; `custom` takes the provider's connection-level secret parameters. */
export function credentialFields(type: CredentialType, provider: ProviderDefinition): CredentialField[] {
  if (type !== 'custom') return CANONICAL[type];
  return provider.parameters
    .filter((p) => p.level === 'connection' && p.secret && (!p.authMethods || p.authMethods.includes('custom')))
    .map((p) => ({ name: p.name, secret: true, required: p.required, kind: 'string' as const }));
}

/** Credential types a connection under this provider and auth method may hold. */
export function allowedCredentialTypes(provider: ProviderDefinition, authMethod: AuthMethod): CredentialType[] {
  const declared = provider.credentialTypes?.[authMethod];
  if (declared) return declared;
  return [authMethod];
}

/**
 * What a connection under `provider` stores, per auth method: each credential type it may
 * hold and that type's fields. Shown on provider records (`credentials`).
 *
 * @example
 * ```ts
 * providerCredentials(stripe); // [{ authMethod: 'api_key', type: 'api_key', deprecated: false, fields: [{ name: 'apiKey', secret: true, required: true, kind: 'string' }] }]
 * ```
 */
export function providerCredentials(provider: ProviderDefinition): Array<{ authMethod: AuthMethod; type: CredentialType; deprecated: boolean; fields: CredentialField[] }> {
  return provider.authMethods.flatMap((authMethod) =>
    allowedCredentialTypes(provider, authMethod).map((type) => ({ authMethod, type, deprecated: DEPRECATED_METHODS.has(authMethod) || DEPRECATED_METHODS.has(type), fields: credentialFields(type, provider) })),
  );
}
