import type { OutboundGuard } from '../net/outbound-guard.js';
import type { AuthMethod, CredentialType, ProviderDefinition } from '../providers/provider-schema.js';
import type { TestResult } from './test-result.js';

/**
 * Decrypted credentials of a connection (canonical camelCase fields, SPEC section 4). For
 * `oauth1` they also hold the integration's `consumerSecret`: a signature needs the
 * consumer's secret and the token's, and the scrubber then covers both.
 */
export interface TestCredentials {
  type: CredentialType;
  fields: Record<string, unknown>;
}

/** Everything a tester needs; assembled by the domain from the integration and connection. */
export interface TestTarget {
  provider: ProviderDefinition;
  /** The integration's auth method; picks the provider's `injection` entry. */
  authMethod: AuthMethod;
  integrationConfig: Record<string, unknown>;
  connectionConfig: Record<string, unknown>;
  credentials: TestCredentials;
}

export interface TesterOptions {
  timeoutMs: number;
  guard: OutboundGuard;
  /** Aborted on timeout or cancellation; testers close their sockets when it fires. */
  signal: AbortSignal;
}

/** One kind of connection test (`provider.test.kind`). */
export interface ConnectionTester {
  readonly kind: 'http' | 'postgresql' | 'sftp' | 'aws_ses';
  /**
   * Runs the test. May throw `TestFailure`, `DestinationRefusedError` or a network error;
   * the dispatcher maps those to codes and scrubs secrets from whatever comes back.
   */
  test(target: TestTarget, options: TesterOptions): Promise<TestResult>;
}
