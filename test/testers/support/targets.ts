import { expect } from 'vitest';
import { loadCatalog } from '../../../src/providers/catalog.js';
import { ProviderDefinition, type AuthMethod, type CredentialType } from '../../../src/providers/provider-schema.js';
import type { TestTarget } from '../../../src/testers/connection-tester.js';

const catalog = loadCatalog();

/** A provider from the built-in catalog. */
export function catalogProvider(key: string): ProviderDefinition {
  const provider = catalog.get(key);
  if (!provider) throw new Error(`no provider ${key} in the catalog`);
  return provider;
}

/** A provider definition built for a test, validated like a catalog entry. */
export function customProvider(raw: Record<string, unknown>): ProviderDefinition {
  return ProviderDefinition.parse({ displayName: 'Test', categories: ['other'], parameters: [], ...raw });
}

export function target(
  provider: ProviderDefinition,
  authMethod: AuthMethod,
  credentials: { type: CredentialType; fields: Record<string, unknown> },
  config: { integration?: Record<string, unknown>; connection?: Record<string, unknown> } = {},
): TestTarget {
  return { provider, authMethod, credentials, integrationConfig: config.integration ?? {}, connectionConfig: config.connection ?? {} };
}

/**
 * The canary: the serialized result contains none of the secrets, in none of the spellings a
 * server might echo them in (raw, base64, URL-encoded).
 */
export function expectNoSecrets(result: unknown, secrets: readonly string[]): void {
  const json = JSON.stringify(result);
  for (const secret of secrets) {
    const spellings = [secret, Buffer.from(secret).toString('base64').replace(/=+$/, ''), encodeURIComponent(secret)];
    for (const spelling of spellings) expect(json, `result leaks a secret spelling: ${spelling.slice(0, 6)}…`).not.toContain(spelling);
  }
}
