import { z } from 'zod';

/** Auth methods an integration can use (SPEC section 4). */
export const AUTH_METHODS = [
  'oauth2',
  'oauth2_client_credentials',
  'oauth2_password',
  'api_key',
  'pat',
  'basic',
  'key_file',
  'oauth1',
  'custom',
] as const;
/** Deprecated by OAuth 2.0 Security BCP (RFC 9700 §2.4): kept for legacy providers only. */
export const DEPRECATED_METHODS: ReadonlySet<string> = new Set(['oauth2_password']);
const DEPRECATION_NOTE = 'oauth2_password (the resource-owner password grant) is deprecated by RFC 9700 §2.4: use it only where a provider offers nothing else';

export const AuthMethod = z.enum(AUTH_METHODS).describe(DEPRECATION_NOTE);
export type AuthMethod = z.infer<typeof AuthMethod>;

/** Credential types a connection can hold (SPEC section 1). */
export const CREDENTIAL_TYPES = [
  'oauth2',
  'oauth2_client_credentials',
  'oauth2_password',
  'oauth1',
  'api_key',
  'pat',
  'basic',
  'key_file',
  'aws_sigv4',
  'custom',
] as const;
export const CredentialType = z.enum(CREDENTIAL_TYPES).describe(DEPRECATION_NOTE);
export type CredentialType = z.infer<typeof CredentialType>;

/**
 * One typed parameter of a provider, in the spirit of the seeds' parameter metadata.
 * `level` says where it lives: on the integration (e.g. `clientId`, `clientSecret`) or
 * on each connection (e.g. `host`, or a custom credential field). `secret` decides
 * whether it is write-only; nothing else does.
 */
export const ProviderParameter = z
  .object({
    name: z.string().regex(/^[a-z][A-Za-z0-9]*$/),
    displayName: z.string().min(1),
    description: z.string().default(''),
    type: z.enum(['string', 'integer', 'number', 'boolean', 'enum', 'json']),
    required: z.boolean().default(false),
    secret: z.boolean().default(false),
    defaultValue: z.union([z.string(), z.number(), z.boolean()]).optional(),
    options: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
    pattern: z.string().optional(),
    /**
     * What a string value is, beyond its pattern: `credential-header` names the request
     * header a credential is sent in, so hop-by-hop, framing and routing headers (`Host`,
     * `Content-Length`, `Transfer-Encoding`, `Proxy-*`, …) are refused.
     */
    format: z.enum(['credential-header']).optional(),
    integerRange: z.object({ min: z.number().int(), max: z.number().int() }).optional(),
    uiHint: z.enum(['text', 'password', 'textarea', 'url', 'select', 'checkbox', 'number', 'scopes', 'multiline-secret']).optional(),
    level: z.enum(['integration', 'connection']),
    /** The auth methods this parameter applies to; all when omitted. */
    authMethods: z.array(AuthMethod).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.type === 'enum' && (!p.options || p.options.length === 0)) ctx.addIssue({ code: 'custom', message: `${p.name}: enum needs options` });
    if (p.format && p.type !== 'string') ctx.addIssue({ code: 'custom', message: `${p.name}: format applies to strings only` });
    if (p.pattern) {
      try {
        new RegExp(p.pattern);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${p.name}: pattern is not a valid regular expression` });
      }
    }
  });
export type ProviderParameter = z.infer<typeof ProviderParameter>;

export const OAuthSettings = z
  .object({
    authorizationUrl: z.string(),
    tokenUrl: z.string(),
    defaultScopes: z.array(z.string()).default([]),
    scopeSeparator: z.string().default(' '),
    pkce: z.boolean().default(true),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    /** Extra query parameters for the authorization request (e.g. `access_type=offline`). */
    authorizationParams: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type OAuthSettings = z.infer<typeof OAuthSettings>;

/** How credentials are put on an outgoing request (proxy and HTTP tests). */
export const CredentialInjection = z.discriminatedUnion('style', [
  z.object({ style: z.literal('bearer') }).strict(),
  z.object({ style: z.literal('header'), header: z.string(), prefix: z.string().optional() }).strict(),
  z.object({ style: z.literal('query'), param: z.string() }).strict(),
  z.object({ style: z.literal('basic') }).strict(),
  /** An OAuth 1.0a signature in `Authorization: OAuth …` (RFC 5849), keyed by the integration's consumer secret and the connection's token secret. */
  z.object({ style: z.literal('oauth1'), signatureMethod: z.literal('HMAC-SHA1') }).strict(),
  z.object({ style: z.literal('none') }).strict(),
]);

export const ConnectionTest = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('http'),
      method: z.enum(['GET', 'POST', 'HEAD']).default('GET'),
      path: z.string().startsWith('/'),
      expectStatus: z.number().int().default(200),
      /** A dotted path that must be present in the JSON response, e.g. `login`. */
      jsonField: z.string().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('postgresql') }).strict(),
  z.object({ kind: z.literal('sftp') }).strict(),
  z.object({ kind: z.literal('aws_ses') }).strict(),
  z.object({ kind: z.literal('none'), reason: z.string() }).strict(),
]);

/** The fields of a provider file, before the cross-field checks (see {@link ProviderDefinition}). */
export const ProviderDefinitionShape = z
  .object({
    key: z.string().regex(/^[a-z][a-z0-9_]{1,63}$/),
    displayName: z.string().min(1).max(100),
    description: z.string().default(''),
    categories: z.array(z.string()).min(1),
    authMethods: z.array(AuthMethod).min(1),
    /** Credential types a connection may hold, per auth method, when not the same name. */
    credentialTypes: z.record(z.string(), z.array(CredentialType)).optional(),
    oauth: OAuthSettings.optional(),
    /** API base URL; `{param}` placeholders are filled from integration/connection config. */
    baseUrl: z.string().optional(),
    injection: z.record(z.string(), CredentialInjection).optional(),
    test: ConnectionTest,
    docsUrl: z.string().optional(),
    /** True for the generic `oauth2`/`http` providers whose endpoints come from config. */
    generic: z.boolean().default(false),
    parameters: z.array(ProviderParameter),
  })
  .strict();

export const ProviderDefinition = ProviderDefinitionShape.superRefine((p, ctx) => {
  const names = new Set<string>();
  for (const param of p.parameters) {
    const id = `${param.level}:${param.name}`;
    if (names.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate parameter ${param.name}` });
    names.add(id);
  }
  const oauthMethods = p.authMethods.filter((m) => m.startsWith('oauth2'));
  if (oauthMethods.length > 0 && !p.oauth && !p.generic) ctx.addIssue({ code: 'custom', message: 'OAuth auth methods need oauth settings' });
});
export type ProviderDefinition = z.infer<typeof ProviderDefinition>;
