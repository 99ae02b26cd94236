import { resolve } from 'node:path';
import { MIN_API_KEY_LENGTH } from './crypto/api-key-token.js';

/**
 * Runtime configuration (SPEC section 8). Every setting has an environment variable;
 * the CLI's flags override them.
 */
export interface LatchkeyConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `postgres://…`, or a SQLite file path. */
  databaseUrl: string;
  rootKey?: string | undefined;
  rootKeyFile?: string | undefined;
  bootstrapKey?: string | undefined;
  publicUrl: string;
  allowPrivateNetworks: boolean;
  logLevel: string;
  /** Requests per second per API key before 429 (0 turns the limit off). */
  rateLimitPerSecond: number;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  /** Longest a connection test may run before it fails with `timeout`. */
  testTimeoutMs: number;
}

const bool = (value: string | undefined): boolean => value === 'true' || value === '1';

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

/** Reads the configuration from an environment (process.env by default) plus overrides. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<LatchkeyConfig> = {}): LatchkeyConfig {
  const host = overrides.host ?? env.LATCHKEY_HOST ?? '127.0.0.1';
  const port = overrides.port ?? int('LATCHKEY_PORT', env.LATCHKEY_PORT, 8787);
  const dataDir = resolve(overrides.dataDir ?? env.LATCHKEY_DATA_DIR ?? './data');
  const config: LatchkeyConfig = {
    host,
    port,
    dataDir,
    databaseUrl: overrides.databaseUrl ?? env.LATCHKEY_DATABASE_URL ?? resolve(dataDir, 'latchkey.db'),
    rootKey: overrides.rootKey ?? env.LATCHKEY_ROOT_KEY,
    rootKeyFile: overrides.rootKeyFile ?? env.LATCHKEY_ROOT_KEY_FILE,
    bootstrapKey: overrides.bootstrapKey ?? env.LATCHKEY_BOOTSTRAP_KEY,
    publicUrl: (overrides.publicUrl ?? env.LATCHKEY_PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/$/, ''),
    allowPrivateNetworks: overrides.allowPrivateNetworks ?? bool(env.LATCHKEY_ALLOW_PRIVATE_NETWORKS),
    logLevel: overrides.logLevel ?? env.LATCHKEY_LOG_LEVEL ?? 'info',
    rateLimitPerSecond: overrides.rateLimitPerSecond ?? int('LATCHKEY_RATE_LIMIT', env.LATCHKEY_RATE_LIMIT, 500),
    bodyLimitBytes: overrides.bodyLimitBytes ?? int('LATCHKEY_BODY_LIMIT', env.LATCHKEY_BODY_LIMIT, 1024 * 1024),
    testTimeoutMs: overrides.testTimeoutMs ?? int('LATCHKEY_TEST_TIMEOUT_MS', env.LATCHKEY_TEST_TIMEOUT_MS, 10_000),
  };
  if (config.bootstrapKey !== undefined && config.bootstrapKey.length < MIN_API_KEY_LENGTH) {
    throw new Error(`LATCHKEY_BOOTSTRAP_KEY must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  return config;
}
