import { mkdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AuditLog } from './audit/audit-log.js';
import { bootstrapFirstTenant } from './bootstrap.js';
import type { LatchkeyConfig } from './config.js';
import { ALL_CONTRACTS } from './contracts/index.js';
import { Registry } from './contracts/registry.js';
import { Keyring } from './crypto/keyring.js';
import { loadRootKey } from './crypto/root-key.js';
import { Authenticator } from './domain/access/authenticator.js';
import { bindHandlers } from './domain/bind-handlers.js';
import type { Services } from './domain/services.js';
import { createLogger } from './logger.js';
import { OutboundGuard } from './net/outbound-guard.js';
import { loadCatalog } from './providers/catalog.js';
import { type Store, openStore } from './store/database.js';
import { IdempotencyStore } from './store/idempotency-store.js';
import { migrateToLatest } from './store/migrations.js';
import { SecretStore } from './store/secret-store.js';
import { createHttpServer } from './surfaces/http/http-server.js';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A started Latchkey: the HTTP app, the registry every surface uses, and its parts. */
export interface Latchkey {
  config: LatchkeyConfig;
  app: FastifyInstance;
  registry: Registry;
  services: Services;
  logger: Logger;
  /** The first admin key, only on the very first start of an empty database. */
  firstAdminKey: string | null;
  close(): Promise<void>;
}

export interface CreateOptions {
  logDestination?: DestinationStream;
}

/**
 * Opens the database, runs migrations, loads and checks the root key, builds the
 * registry (refusing to start if any contract is incomplete) and the HTTP app.
 *
 * @example
 * ```ts
 * const lk = await createLatchkey(loadConfig());
 * await lk.app.listen({ host: lk.config.host, port: lk.config.port });
 * ```
 */
export async function createLatchkey(config: LatchkeyConfig, opts: CreateOptions = {}): Promise<Latchkey> {
  const logger = createLogger(config.logLevel, opts.logDestination);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const catalog = loadCatalog();
  const store: Store = openStore({ url: config.databaseUrl });
  try {
    await migrateToLatest(store.db, store.engine);
    const wrapping = await store.db.selectFrom('data_keys').select('root_key_id').distinct().execute();
    const root = loadRootKey({
      value: config.rootKey,
      file: config.rootKeyFile,
      dataDir: config.dataDir,
      warn: (m) => logger.warn(m),
      neededKeyIds: wrapping.map((r) => r.root_key_id),
    });
    const keyring = new Keyring(root);
    await keyring.verifyRootKey(store.db);
    const audit = new AuditLog(store.engine, keyring.derivedKey('audit-chain'));
    const services: Services = {
      store,
      keyring,
      secrets: new SecretStore(keyring),
      catalog,
      audit,
      guard: new OutboundGuard({ allowPrivateNetworks: config.allowPrivateNetworks }),
      testTimeoutMs: config.testTimeoutMs,
    };
    const authenticator = new Authenticator(store);
    const registry = new Registry(ALL_CONTRACTS, {
      store,
      audit,
      idempotency: new IdempotencyStore(keyring),
      onInternalError: (key, error) => logger.error({ operation: key, err: error }, 'operation failed'),
    });
    bindHandlers(registry, services, { onKeyRevoked: (id) => authenticator.forget(id) }).seal();
    const first = await bootstrapFirstTenant(store, keyring, audit, config.bootstrapKey);
    await keyring.warm(store.db);
    const app = createHttpServer({
      registry,
      authenticator,
      store,
      logger,
      version: VERSION,
      publicUrl: config.publicUrl,
      bodyLimitBytes: config.bodyLimitBytes,
      rateLimitPerSecond: config.rateLimitPerSecond,
    });
    return {
      config,
      app,
      registry,
      services,
      logger,
      firstAdminKey: first?.adminKey ?? null,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
