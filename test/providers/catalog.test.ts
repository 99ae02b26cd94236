import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/providers/catalog.js';
import type { ProviderDefinition, ProviderParameter } from '../../src/providers/provider-schema.js';

const CATALOG_DIR = fileURLToPath(new URL('../../src/providers/catalog/', import.meta.url));

const EXPECTED_KEYS = [
  'github',
  'gitlab',
  'slack',
  'google',
  'microsoft',
  'sharepoint',
  'salesforce',
  'hubspot',
  'stripe',
  'databricks',
  'notion',
  'jira',
  'zendesk',
  'postgresql',
  'sftp',
  'aws_ses',
  'oauth2',
  'http',
  'twitter',
];

const CATEGORIES = new Set([
  'developer-tools',
  'communication',
  'productivity',
  'storage',
  'crm',
  'payments',
  'data',
  'database',
  'file-transfer',
  'email',
  'support',
  'identity',
  'project-management',
  'marketing',
  'other',
]);

/** Protocol providers are tested by their own tester and have no HTTP credential injection. */
const PROTOCOL_TESTS = new Set(['postgresql', 'sftp', 'aws_ses']);

/** Canonical credential fields (SPEC section 4) are defined in code, never as provider parameters. */
const CANONICAL_CREDENTIAL_FIELDS = new Set([
  'accessToken',
  'refreshToken',
  'expiresAt',
  'tokenType',
  'apiKey',
  'token',
  'tokenSecret',
  'username',
  'password',
  'privateKey',
  'passphrase',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
]);

const catalog = loadCatalog();
const providers = catalog.list();

const oauthMethodsOf = (p: ProviderDefinition) => p.authMethods.filter((m) => m.startsWith('oauth2'));
const isOAuth = (p: ProviderDefinition) => oauthMethodsOf(p).length > 0;
const param = (p: ProviderDefinition, name: string, level: ProviderParameter['level']) =>
  p.parameters.find((x) => x.name === name && x.level === level);
const placeholders = (template: string): string[] => [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');

function isHttpsUrl(value: string): boolean {
  try {
    // Placeholders are filled with host-safe values; a stand-in keeps the URL parseable.
    const url = new URL(value.replaceAll(/\{[^{}]*\}/g, 'placeholder'));
    return url.protocol === 'https:' && url.hostname.length > 0;
  } catch {
    return false;
  }
}

describe('provider catalog', () => {
  it('loads every built-in provider and nothing else', () => {
    expect(providers.map((p) => p.key).sort()).toEqual([...EXPECTED_KEYS].sort());
    for (const key of EXPECTED_KEYS) expect(catalog.get(key)?.key).toBe(key);
    expect(catalog.get('nope')).toBeUndefined();
  });

  it.each(EXPECTED_KEYS)('%s: basics (test, categories, auth methods, docs)', (key) => {
    const p = catalog.get(key);
    expect(p).toBeDefined();
    if (!p) return;
    expect(p.test).toBeDefined();
    expect(p.categories.length).toBeGreaterThan(0);
    for (const c of p.categories) expect(CATEGORIES.has(c), `${key}: unknown category ${c}`).toBe(true);
    expect(p.authMethods.length).toBeGreaterThan(0);
    expect(new Set(p.authMethods).size).toBe(p.authMethods.length);
    expect(p.description.length).toBeGreaterThan(0);
    expect(p.docsUrl && isHttpsUrl(p.docsUrl), `${key}: docsUrl`).toBe(true);
  });

  it('declares the generic providers as generic, with their endpoints as config', () => {
    const oauth2 = catalog.get('oauth2');
    const http = catalog.get('http');
    expect(oauth2?.generic).toBe(true);
    expect(http?.generic).toBe(true);
    expect(oauth2?.oauth).toBeUndefined();
    expect(oauth2?.authMethods).toEqual(['oauth2', 'oauth2_client_credentials', 'oauth2_password']);
    expect(http?.authMethods).toEqual(['api_key', 'pat', 'basic', 'oauth1']);
    for (const name of ['authorizationUrl', 'tokenUrl', 'baseUrl', 'defaultScopes', 'tokenEndpointAuthMethod', 'pkce']) {
      expect(oauth2 && param(oauth2, name, 'integration'), `oauth2.${name}`).toBeDefined();
    }
    expect(oauth2 && param(oauth2, 'tokenEndpointAuthMethod', 'integration')?.options?.map((o) => o.value)).toEqual([
      'client_secret_basic',
      'client_secret_post',
    ]);
    expect(oauth2 && param(oauth2, 'pkce', 'integration')?.type).toBe('boolean');
    for (const name of ['baseUrl', 'authHeader', 'authPrefix', 'apiKeyQueryParam', 'testPath']) {
      expect(http && param(http, name, 'integration'), `http.${name}`).toBeDefined();
    }
    expect(http && param(http, 'baseUrl', 'integration')?.required).toBe(true);
    expect(http && param(http, 'authHeader', 'integration')?.defaultValue).toBe('Authorization');
    expect(http && param(http, 'testPath', 'integration')?.defaultValue).toBe('/');
    expect(http?.test).toMatchObject({ kind: 'http', path: '/' });
    // Only the generic providers are generic.
    expect(providers.filter((p) => p.generic).map((p) => p.key).sort()).toEqual(['http', 'oauth2']);
  });

  it('gives non-generic OAuth providers https authorization and token URLs', () => {
    for (const p of providers.filter((x) => isOAuth(x) && !x.generic)) {
      expect(p.oauth, `${p.key}: oauth`).toBeDefined();
      if (!p.oauth) continue;
      expect(isHttpsUrl(p.oauth.authorizationUrl), `${p.key}: authorizationUrl`).toBe(true);
      expect(isHttpsUrl(p.oauth.tokenUrl), `${p.key}: tokenUrl`).toBe(true);
      expect(p.oauth.scopeSeparator.length).toBeGreaterThan(0);
    }
    // No OAuth settings on a provider without an OAuth method.
    for (const p of providers.filter((x) => !isOAuth(x))) expect(p.oauth, p.key).toBeUndefined();
  });

  it('declares clientId (not secret) and clientSecret (secret) at integration level for every OAuth provider', () => {
    for (const p of providers.filter(isOAuth)) {
      const oauthMethods = oauthMethodsOf(p);
      const clientId = param(p, 'clientId', 'integration');
      const clientSecret = param(p, 'clientSecret', 'integration');
      expect(clientId, `${p.key}: clientId`).toBeDefined();
      expect(clientSecret, `${p.key}: clientSecret`).toBeDefined();
      expect(clientId?.secret, `${p.key}: clientId.secret`).toBe(false);
      expect(clientId?.required).toBe(true);
      expect(clientSecret?.secret, `${p.key}: clientSecret.secret`).toBe(true);
      expect(clientSecret?.required).toBe(true);
      expect(clientSecret?.uiHint).toBe('password');
      expect([...(clientId?.authMethods ?? [])].sort()).toEqual([...oauthMethods].sort());
      expect([...(clientSecret?.authMethods ?? [])].sort()).toEqual([...oauthMethods].sort());
    }
    for (const p of providers.filter((x) => !isOAuth(x))) {
      expect(param(p, 'clientId', 'integration'), `${p.key}: no clientId`).toBeUndefined();
      expect(param(p, 'clientSecret', 'integration'), `${p.key}: no clientSecret`).toBeUndefined();
    }
  });

  it('declares consumerKey (not secret) and consumerSecret (secret) at integration level, and a signature, for every OAuth 1.0a provider', () => {
    const oauth1 = providers.filter((p) => p.authMethods.includes('oauth1'));
    expect(oauth1.map((p) => p.key).sort()).toEqual(['http', 'twitter']);
    for (const p of oauth1) {
      const consumerKey = param(p, 'consumerKey', 'integration');
      const consumerSecret = param(p, 'consumerSecret', 'integration');
      expect(consumerKey, `${p.key}: consumerKey`).toMatchObject({ secret: false, required: true, authMethods: ['oauth1'] });
      expect(consumerSecret, `${p.key}: consumerSecret`).toMatchObject({ secret: true, required: true, uiHint: 'password', authMethods: ['oauth1'] });
      expect(p.injection?.oauth1, `${p.key}: injection`).toEqual({ style: 'oauth1', signatureMethod: 'HMAC-SHA1' });
      // Connections hold the token pair (canonical fields), never a parameter of that name.
      expect(p.credentialTypes?.oauth1 ?? ['oauth1']).toEqual(['oauth1']);
    }
    for (const p of providers.filter((x) => !x.authMethods.includes('oauth1'))) {
      expect(param(p, 'consumerKey', 'integration'), `${p.key}: no consumerKey`).toBeUndefined();
      expect(param(p, 'consumerSecret', 'integration'), `${p.key}: no consumerSecret`).toBeUndefined();
    }
    expect(catalog.get('twitter')).toMatchObject({ baseUrl: 'https://api.x.com', test: { kind: 'http', path: '/2/users/me', jsonField: 'data.id' } });
  });

  it('keeps parameters well-formed: patterns compile, defaults satisfy type, pattern, range and options', () => {
    for (const p of providers) {
      for (const x of p.parameters) {
        const at = `${p.key}.${x.level}.${x.name}`;
        expect(x.name, at).toMatch(/^[a-z][A-Za-z0-9]*$/);
        expect(CANONICAL_CREDENTIAL_FIELDS.has(x.name), `${at}: canonical credential field as a parameter`).toBe(false);
        for (const m of x.authMethods ?? []) expect(p.authMethods, `${at}: auth method ${m}`).toContain(m);
        if (x.uiHint === 'password' || x.uiHint === 'multiline-secret') expect(x.secret, `${at}: secret ui hint`).toBe(true);
        // Connection-level secrets are only custom credential fields.
        if (x.level === 'connection' && x.secret) expect(p.authMethods, `${at}: custom`).toContain('custom');
        if (x.type === 'enum') {
          expect(x.options?.length, `${at}: options`).toBeGreaterThan(0);
          const values = (x.options ?? []).map((o) => o.value);
          expect(new Set(values).size, `${at}: duplicate options`).toBe(values.length);
        }
        if (x.integerRange) expect(x.integerRange.min, at).toBeLessThanOrEqual(x.integerRange.max);

        const pattern = x.pattern === undefined ? undefined : new RegExp(x.pattern);
        const value = x.defaultValue;
        if (value === undefined) continue;
        expect(x.secret, `${at}: secrets have no default`).toBe(false);
        switch (x.type) {
          case 'string':
            expect(typeof value, at).toBe('string');
            if (pattern) expect(pattern.test(String(value)), `${at}: default ${JSON.stringify(value)} vs ${x.pattern}`).toBe(true);
            break;
          case 'integer':
          case 'number':
            expect(typeof value, at).toBe('number');
            if (x.type === 'integer') expect(Number.isInteger(value), at).toBe(true);
            if (x.integerRange) {
              expect(value, at).toBeGreaterThanOrEqual(x.integerRange.min);
              expect(value, at).toBeLessThanOrEqual(x.integerRange.max);
            }
            break;
          case 'boolean':
            expect(typeof value, at).toBe('boolean');
            break;
          case 'enum':
            expect((x.options ?? []).map((o) => o.value), at).toContain(value);
            break;
          case 'json':
            throw new Error(`${at}: json parameters cannot have a default`);
        }
      }
    }
  });

  it('names an existing parameter in every {placeholder} of baseUrl and OAuth URLs', () => {
    for (const p of providers) {
      const names = new Set(p.parameters.map((x) => x.name));
      const templates = [p.baseUrl, p.oauth?.authorizationUrl, p.oauth?.tokenUrl].filter((t): t is string => t !== undefined);
      for (const template of templates) {
        for (const name of placeholders(template)) {
          expect(names.has(name), `${p.key}: {${name}} in ${template}`).toBe(true);
          const declared = p.parameters.filter((x) => x.name === name);
          for (const d of declared) expect(d.secret, `${p.key}: {${name}} must not be secret`).toBe(false);
        }
      }
      // An OAuth endpoint cannot be built without its placeholders: required or defaulted.
      for (const template of [p.oauth?.authorizationUrl, p.oauth?.tokenUrl]) {
        for (const name of placeholders(template ?? '')) {
          const d = p.parameters.find((x) => x.name === name);
          expect(d?.required === true || d?.defaultValue !== undefined, `${p.key}: {${name}} required or defaulted`).toBe(true);
        }
      }
    }
  });

  it('declares credential injection for every auth method of HTTP providers, and tests that match', () => {
    for (const p of providers) {
      if (PROTOCOL_TESTS.has(p.key)) {
        expect(p.test.kind, p.key).toBe(p.key);
        expect(p.injection, `${p.key}: no injection`).toBeUndefined();
        continue;
      }
      expect(p.test.kind, p.key).toBe('http');
      if (p.test.kind === 'http') expect(p.test.path.startsWith('/'), p.key).toBe(true);
      expect(p.baseUrl, `${p.key}: baseUrl`).toBeDefined();
      if (!p.generic) expect(isHttpsUrl(p.baseUrl ?? ''), `${p.key}: baseUrl https`).toBe(true);
      for (const m of p.authMethods) expect(p.injection?.[m], `${p.key}: injection for ${m}`).toBeDefined();
      for (const m of Object.keys(p.injection ?? {})) expect(p.authMethods as string[], `${p.key}: injection key ${m}`).toContain(m);
    }
    expect(catalog.get('github')?.test).toEqual({ kind: 'http', method: 'GET', path: '/user', expectStatus: 200, jsonField: 'login' });
  });

  it('declares the canonical protocol parameters and credential types', () => {
    const pg = catalog.get('postgresql');
    expect(pg?.authMethods).toEqual(['basic']);
    expect(pg?.parameters.map((x) => x.name)).toEqual(['host', 'port', 'database', 'sslMode', 'caCertificate']);
    expect(pg && param(pg, 'port', 'connection')).toMatchObject({ type: 'integer', defaultValue: 5432, integerRange: { min: 1, max: 65535 } });
    expect(pg && param(pg, 'sslMode', 'connection')?.defaultValue).toBe('require');
    expect(pg?.parameters.every((x) => x.level === 'connection' && !x.secret)).toBe(true);

    const sftp = catalog.get('sftp');
    expect(sftp?.authMethods).toEqual(['basic', 'key_file']);
    expect(sftp?.parameters.map((x) => x.name)).toEqual(['host', 'port', 'hostKeyFingerprint', 'startDirectory']);
    const fp = sftp && param(sftp, 'hostKeyFingerprint', 'connection');
    expect(new RegExp(fp?.pattern ?? '^$').test('SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU')).toBe(true);
    expect(new RegExp(fp?.pattern ?? '^$').test('MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48')).toBe(false);
    expect(sftp?.parameters.every((x) => x.level === 'connection' && !x.secret)).toBe(true);

    const ses = catalog.get('aws_ses');
    expect(ses?.authMethods).toEqual(['custom']);
    expect(ses?.credentialTypes).toEqual({ custom: ['aws_sigv4'] });
    expect(ses?.parameters.map((x) => x.name)).toEqual(['region', 'endpoint']);
    const region = new RegExp(ses?.parameters.find((x) => x.name === 'region')?.pattern ?? '^$');
    for (const ok of ['us-east-1', 'eu-central-1', 'ap-southeast-2', 'us-gov-west-1']) expect(region.test(ok), ok).toBe(true);
    for (const bad of ['us-east', 'US-EAST-1', 'useast1']) expect(region.test(bad), bad).toBe(false);

    for (const p of providers) {
      for (const m of Object.keys(p.credentialTypes ?? {})) expect(p.authMethods as string[], `${p.key}: credentialTypes ${m}`).toContain(m);
    }
  });

  it('keeps provider-specific patterns honest', () => {
    const re = (key: string, name: string) => new RegExp(catalog.get(key)?.parameters.find((x) => x.name === name)?.pattern ?? '^$');
    expect(re('zendesk', 'subdomain').test('acme')).toBe(true);
    expect(re('zendesk', 'subdomain').test('acme.zendesk.com')).toBe(false);
    expect(re('databricks', 'workspaceHost').test('dbc-a1b2c3d4-e5f6.cloud.databricks.com')).toBe(true);
    expect(re('databricks', 'workspaceHost').test('adb-1234567890123456.7.azuredatabricks.net')).toBe(true);
    expect(re('databricks', 'workspaceHost').test('evil.example.com')).toBe(false);
    expect(re('microsoft', 'tenantId').test('common')).toBe(true);
    expect(re('microsoft', 'tenantId').test('72f988bf-86f1-41af-91ab-2d7cd011db47')).toBe(true);
    expect(re('microsoft', 'tenantId').test('contoso.onmicrosoft.com')).toBe(true);
    expect(re('microsoft', 'tenantId').test('a/b')).toBe(false);
    expect(re('gitlab', 'host').test('gitlab.example.com:8443')).toBe(true);
    expect(re('gitlab', 'host').test('https://gitlab.com')).toBe(false);
    expect(re('salesforce', 'loginHost').test('acme--uat.sandbox.my.salesforce.com')).toBe(true);
    expect(re('salesforce', 'loginHost').test('login.example.com')).toBe(false);
    expect(re('http', 'baseUrl').test('http://127.0.0.1:8080/api')).toBe(true);
    expect(re('http', 'baseUrl').test('ftp://example.com')).toBe(false);
  });
});

describe('loadCatalog validation', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-catalog-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('loads a valid single-file catalog from another directory', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'github.json'), readFileSync(join(CATALOG_DIR, 'github.json')));
    expect(loadCatalog(dir).list().map((p) => p.key)).toEqual(['github']);
  });

  it('throws naming the file when an entry is invalid', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'github.json'), readFileSync(join(CATALOG_DIR, 'github.json')));
    const bad = {
      key: 'broken',
      displayName: 'Broken',
      categories: ['other'],
      authMethods: ['oauth2', 'telepathy'],
      test: { kind: 'http', path: 'no-leading-slash' },
      parameters: [{ name: 'Bad-Name', displayName: 'x', type: 'string', level: 'integration' }],
    };
    writeFileSync(join(dir, 'broken.json'), JSON.stringify(bad));
    expect(() => loadCatalog(dir)).toThrow(/provider catalog broken\.json/);
  });

  it('throws naming the file when an OAuth provider has no oauth settings', () => {
    const dir = tempDir();
    const github = JSON.parse(readFileSync(join(CATALOG_DIR, 'github.json'), 'utf8')) as Record<string, unknown>;
    delete github.oauth;
    writeFileSync(join(dir, 'github.json'), JSON.stringify(github));
    expect(() => loadCatalog(dir)).toThrow(/github\.json.*oauth settings/);
  });

  it('rejects a file whose name does not match its key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'gitlab.json'), readFileSync(join(CATALOG_DIR, 'github.json')));
    expect(() => loadCatalog(dir)).toThrow(/gitlab\.json: key github does not match the file name/);
  });
});
