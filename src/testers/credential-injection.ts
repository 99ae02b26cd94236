import { RESERVED_HEADER_MESSAGE, isReservedRequestHeader } from '../providers/reserved-headers.js';
import type { TestTarget } from './connection-tester.js';
import { type OAuth1Credentials, OAuth1ParameterError, oauth1Authorization } from './oauth1-signature.js';
import { configString, credentialString } from './target-config.js';
import { TestFailure } from './test-result.js';

type Injection =
  | { style: 'bearer' }
  | { style: 'header'; header: string; prefix?: string }
  | { style: 'query'; param: string }
  | { style: 'basic' }
  | { style: 'oauth1'; signatureMethod: 'HMAC-SHA1' }
  | { style: 'none' };

/** The credential field that holds the token for each token-bearing credential type. */
const TOKEN_FIELD: Record<string, string> = {
  api_key: 'apiKey',
  pat: 'token',
  oauth2: 'accessToken',
  oauth2_client_credentials: 'accessToken',
  oauth2_password: 'accessToken',
};

/**
 * How credentials go on the request: the provider's `injection` for the integration's auth
 * method; for the generic `http` provider, the integration's `authHeader`/`authPrefix`/
 * `apiKeyQueryParam` override it. An empty `authPrefix` is honoured (bare value); none at all
 * means `Bearer ` in `Authorization` and the bare value in any other header.
 *
 * @example
 * ```ts
 * resolveInjection(target); // { style: 'header', header: 'X-API-Key', prefix: '' }
 * ```
 */
export function resolveInjection(target: TestTarget): Injection {
  const { provider, authMethod } = target;
  const declared = (provider.injection?.[authMethod] ?? provider.injection?.[target.credentials.type]) as Injection | undefined;
  if (provider.generic && (authMethod === 'api_key' || authMethod === 'pat')) {
    const queryParam = authMethod === 'api_key' ? configString(target, 'apiKeyQueryParam') : undefined;
    if (queryParam) return { style: 'query', param: queryParam };
    const rawPrefix = target.integrationConfig.authPrefix;
    const header = configString(target, 'authHeader') ?? (declared?.style === 'header' ? declared.header : 'Authorization');
    // No prefix given: the declared header keeps its declared prefix ("Bearer " in
    // Authorization); any other header (X-API-Key) gets the bare value.
    const declaredHeader = declared?.style === 'header' ? declared : null;
    const fallback = declaredHeader && declaredHeader.header.toLowerCase() === header.toLowerCase() ? (declaredHeader.prefix ?? '') : header.toLowerCase() === 'authorization' ? 'Bearer ' : '';
    const prefix = typeof rawPrefix === 'string' ? rawPrefix : fallback;
    return { style: 'header', header, prefix };
  }
  if (!declared) throw new TestFailure('misconfigured', `provider ${provider.key} declares no credential injection for ${authMethod}`);
  return declared;
}

function tokenOf(target: TestTarget): string {
  const field = TOKEN_FIELD[target.credentials.type];
  if (!field) throw new TestFailure('misconfigured', `${target.credentials.type} credentials cannot be sent as a token`);
  const value = credentialString(target, field);
  if (!value) throw new TestFailure('misconfigured', `the credentials have no ${field}`);
  return value;
}

function headerSafe(value: string, what: string): string {
  // A CR/LF would split the header; node rejects it too, but with a less helpful message.
  if (/[\r\n\0]/.test(value)) throw new TestFailure('misconfigured', `the ${what} contains a line break`);
  return value;
}

/**
 * The four OAuth 1.0a credentials: the consumer key from the integration's config, the
 * consumer secret (the integration's secret, which whoever loads the credentials adds to
 * them: signing needs both secrets) and the connection's token and token secret. A missing
 * one is `misconfigured`.
 *
 * @example
 * ```ts
 * oauth1Authorization(request, oauth1Credentials(target)); // 'OAuth oauth_consumer_key="…", …'
 * ```
 */
export function oauth1Credentials(target: TestTarget): OAuth1Credentials {
  const consumerKey = configString(target, 'consumerKey', true);
  const need = (field: string, owner: string) => {
    const value = credentialString(target, field);
    if (value === undefined) throw new TestFailure('misconfigured', `the ${owner} has no ${field}`);
    return value;
  };
  return { consumerKey, consumerSecret: need('consumerSecret', 'integration'), token: need('token', 'connection'), tokenSecret: need('tokenSecret', 'connection') };
}

/**
 * Puts the credentials on `url` / `headers` (mutated) as the provider declares. `method`
 * is what an OAuth 1.0a signature covers (the request sent has no body).
 *
 * @example
 * ```ts
 * const headers: Record<string, string> = {};
 * injectCredentials(target, url, headers); // headers.authorization = 'Bearer …'
 * ```
 */
export function injectCredentials(target: TestTarget, url: URL, headers: Record<string, string>, method = 'GET'): void {
  const injection = resolveInjection(target);
  switch (injection.style) {
    case 'none':
      return;
    case 'bearer':
      headers.authorization = `Bearer ${headerSafe(tokenOf(target), 'token')}`;
      return;
    case 'header':
      // Config validation refuses these names; a value stored before that check must still
      // never frame or route a request (Content-Length, Host, …).
      if (isReservedRequestHeader(injection.header)) throw new TestFailure('misconfigured', `the integration's credential header (config.authHeader) ${RESERVED_HEADER_MESSAGE}`);
      headers[injection.header.toLowerCase()] = `${injection.prefix ?? ''}${headerSafe(tokenOf(target), 'token')}`;
      return;
    case 'query':
      url.searchParams.set(injection.param, tokenOf(target));
      return;
    case 'basic': {
      const username = credentialString(target, 'username');
      if (username === undefined) throw new TestFailure('misconfigured', 'the credentials have no username');
      if (username.includes(':')) throw new TestFailure('misconfigured', 'a Basic auth username cannot contain ":"');
      const password = credentialString(target, 'password') ?? '';
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
      return;
    }
    case 'oauth1':
      // Signed over the URL exactly as it will be sent: nothing may change it afterwards.
      try {
        headers.authorization = oauth1Authorization({ method, origin: url, target: `${url.pathname}${url.search}` }, oauth1Credentials(target));
      } catch (error) {
        if (error instanceof OAuth1ParameterError) throw new TestFailure('misconfigured', `the test path: ${error.message}`);
        throw error;
      }
      return;
  }
}
