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
  /** Refresh an OAuth token when it expires within this margin (on mint, proxy and the sweep). */
  refreshMarginMs: number;
  /** How often the background sweep looks for tokens to refresh (0 turns it off). */
  refreshSweepMs: number;
  /** Longest one OAuth token request may take. */
  oauthTimeoutMs: number;
  /** Serve `/metrics` without an API key (for a scraper on a trusted network). */
  metricsPublic: boolean;
  /** PostgreSQL connections per instance (ignored for SQLite). */
  dbPoolSize: number;
  /** On SIGTERM/SIGINT, longest to wait for in-flight requests before cutting them. */
  shutdownTimeoutMs: number;
  /** Where the root key lives: `env` (LATCHKEY_ROOT_KEY), `file` (a key file, the default) or `vault` (Vault Transit). */
  keyProvider: 'env' | 'file' | 'vault';
  vaultAddr?: string | undefined;
  vaultToken?: string | undefined;
  /** Name of the Vault Transit key that wraps the data keys. */
  vaultKey?: string | undefined;
  vaultMount: string;
  vaultNamespace?: string | undefined;
  /** Rotate each tenant's data key when its current version is this many days old (0: only by use count or by hand). */
  dataKeyRotationDays: number;
  /** Run the webhook dispatcher in this process (off: events still queue, another instance delivers them). */
  webhookDispatcher: boolean;
  /** How often the dispatcher looks for due deliveries when idle. */
  webhookPollMs: number;
  /** Longest one delivery attempt may take. */
  webhookTimeoutMs: number;
  /** Attempts per delivery, the first included, before it is marked failed. */
  webhookMaxAttempts: number;
  /** Wait before the first retry; each later one doubles (with jitter), up to 6 hours. */
  webhookRetryBaseMs: number;
  /** The proxy: longest an upstream may stay silent (connecting, before answering, or mid-body) before 504 / the stream is cut. */
  proxyTimeoutMs: number;
  /** The proxy: largest request body streamed to an upstream, in bytes (`413` above). */
  proxyBodyLimitBytes: number;
}

/** `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off` (any case); anything else is refused, never read as false. */
function bool(name: string, value: string | undefined, fallback = false): boolean {
  if (value === undefined || value === '') return fallback;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`${name} must be true or false (got "${value}")`);
}

function int(name: string, value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be an integer from 0 to ${max}`);
  return n;
}

/** Reads the configuration from an environment (process.env by default) plus overrides. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<LatchkeyConfig> = {}): LatchkeyConfig {
  const host = overrides.host ?? env.LATCHKEY_HOST ?? '127.0.0.1';
  const port = overrides.port ?? int('LATCHKEY_PORT', env.LATCHKEY_PORT, 8787, 65535);
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
    allowPrivateNetworks: overrides.allowPrivateNetworks ?? bool('LATCHKEY_ALLOW_PRIVATE_NETWORKS', env.LATCHKEY_ALLOW_PRIVATE_NETWORKS),
    logLevel: overrides.logLevel ?? env.LATCHKEY_LOG_LEVEL ?? 'info',
    rateLimitPerSecond: overrides.rateLimitPerSecond ?? int('LATCHKEY_RATE_LIMIT', env.LATCHKEY_RATE_LIMIT, 500),
    bodyLimitBytes: overrides.bodyLimitBytes ?? int('LATCHKEY_BODY_LIMIT', env.LATCHKEY_BODY_LIMIT, 1024 * 1024),
    testTimeoutMs: overrides.testTimeoutMs ?? int('LATCHKEY_TEST_TIMEOUT_MS', env.LATCHKEY_TEST_TIMEOUT_MS, 10_000),
    refreshMarginMs: overrides.refreshMarginMs ?? int('LATCHKEY_REFRESH_MARGIN_MS', env.LATCHKEY_REFRESH_MARGIN_MS, 5 * 60_000),
    refreshSweepMs: overrides.refreshSweepMs ?? int('LATCHKEY_REFRESH_SWEEP_MS', env.LATCHKEY_REFRESH_SWEEP_MS, 60_000),
    oauthTimeoutMs: overrides.oauthTimeoutMs ?? int('LATCHKEY_OAUTH_TIMEOUT_MS', env.LATCHKEY_OAUTH_TIMEOUT_MS, 10_000),
    metricsPublic: overrides.metricsPublic ?? bool('LATCHKEY_METRICS_PUBLIC', env.LATCHKEY_METRICS_PUBLIC),
    dbPoolSize: overrides.dbPoolSize ?? int('LATCHKEY_DB_POOL_SIZE', env.LATCHKEY_DB_POOL_SIZE, 10),
    shutdownTimeoutMs: overrides.shutdownTimeoutMs ?? int('LATCHKEY_SHUTDOWN_TIMEOUT_MS', env.LATCHKEY_SHUTDOWN_TIMEOUT_MS, 10_000),
    keyProvider: (overrides.keyProvider ?? env.LATCHKEY_KEY_PROVIDER ?? (overrides.rootKey ?? env.LATCHKEY_ROOT_KEY ? 'env' : 'file')) as LatchkeyConfig['keyProvider'],
    vaultAddr: overrides.vaultAddr ?? env.LATCHKEY_VAULT_ADDR,
    vaultToken: overrides.vaultToken ?? env.LATCHKEY_VAULT_TOKEN,
    vaultKey: overrides.vaultKey ?? env.LATCHKEY_VAULT_KEY,
    vaultMount: overrides.vaultMount ?? env.LATCHKEY_VAULT_MOUNT ?? 'transit',
    vaultNamespace: overrides.vaultNamespace ?? env.LATCHKEY_VAULT_NAMESPACE,
    dataKeyRotationDays: overrides.dataKeyRotationDays ?? int('LATCHKEY_DATA_KEY_ROTATION_DAYS', env.LATCHKEY_DATA_KEY_ROTATION_DAYS, 0),
    webhookDispatcher: overrides.webhookDispatcher ?? bool('LATCHKEY_WEBHOOK_DISPATCHER', env.LATCHKEY_WEBHOOK_DISPATCHER, true),
    webhookPollMs: overrides.webhookPollMs ?? int('LATCHKEY_WEBHOOK_POLL_MS', env.LATCHKEY_WEBHOOK_POLL_MS, 1000),
    webhookTimeoutMs: overrides.webhookTimeoutMs ?? int('LATCHKEY_WEBHOOK_TIMEOUT_MS', env.LATCHKEY_WEBHOOK_TIMEOUT_MS, 10_000),
    webhookMaxAttempts: overrides.webhookMaxAttempts ?? int('LATCHKEY_WEBHOOK_MAX_ATTEMPTS', env.LATCHKEY_WEBHOOK_MAX_ATTEMPTS, 10),
    webhookRetryBaseMs: overrides.webhookRetryBaseMs ?? int('LATCHKEY_WEBHOOK_RETRY_BASE_MS', env.LATCHKEY_WEBHOOK_RETRY_BASE_MS, 30_000),
    proxyTimeoutMs: overrides.proxyTimeoutMs ?? int('LATCHKEY_PROXY_TIMEOUT_MS', env.LATCHKEY_PROXY_TIMEOUT_MS, 30_000),
    proxyBodyLimitBytes: overrides.proxyBodyLimitBytes ?? int('LATCHKEY_PROXY_BODY_LIMIT', env.LATCHKEY_PROXY_BODY_LIMIT, 100 * 1024 * 1024),
  };
  if (config.webhookMaxAttempts < 1) throw new Error('LATCHKEY_WEBHOOK_MAX_ATTEMPTS must be at least 1');
  if (config.webhookPollMs < 10) throw new Error('LATCHKEY_WEBHOOK_POLL_MS must be at least 10');
  if (config.dbPoolSize < 1) throw new Error('LATCHKEY_DB_POOL_SIZE must be at least 1');
  if (config.proxyTimeoutMs < 1) throw new Error('LATCHKEY_PROXY_TIMEOUT_MS must be at least 1');
  if (config.proxyBodyLimitBytes < 1) throw new Error('LATCHKEY_PROXY_BODY_LIMIT must be at least 1');
  if (!['env', 'file', 'vault'].includes(config.keyProvider)) throw new Error('LATCHKEY_KEY_PROVIDER must be env, file or vault');
  if (config.keyProvider === 'env' && !config.rootKey) throw new Error('LATCHKEY_KEY_PROVIDER=env needs LATCHKEY_ROOT_KEY');
  if (config.keyProvider === 'vault' && (!config.vaultAddr || !config.vaultToken || !config.vaultKey)) {
    throw new Error('LATCHKEY_KEY_PROVIDER=vault needs LATCHKEY_VAULT_ADDR, LATCHKEY_VAULT_TOKEN and LATCHKEY_VAULT_KEY');
  }
  if (config.bootstrapKey !== undefined && config.bootstrapKey.length < MIN_API_KEY_LENGTH) {
    throw new Error(`LATCHKEY_BOOTSTRAP_KEY must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  return config;
}
