import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AuditGroupCommit } from './audit/audit-group-commit.js';
import { AuditLog } from './audit/audit-log.js';
import { bootstrapFirstTenant } from './bootstrap.js';
import type { LatchkeyConfig } from './config.js';
import { ALL_CONTRACTS } from './contracts/index.js';
import { Registry } from './contracts/registry.js';
import { Authenticator } from './domain/access/authenticator.js';
import { bindHandlers } from './domain/bind-handlers.js';
import type { Services } from './domain/services.js';
import { startKeyMaintenance } from './keys/key-maintenance.js';
import { openKeyring } from './keys/open-keyring.js';
import { createLogger } from './logger.js';
import { OutboundGuard } from './net/outbound-guard.js';
import { createMetrics } from './observability/metrics.js';
import { ConnectSessions } from './oauth/connect-sessions.js';
import { RefreshSweeper } from './oauth/refresh-sweeper.js';
import { TokenService, type TokenServiceOptions } from './oauth/token-service.js';
import { Readiness } from './observability/readiness.js';
import { loadCatalog } from './providers/catalog.js';
import { type Store, openStore } from './store/database.js';
import { startIdempotencyPurge } from './store/idempotency-purge.js';
import { IdempotencyStore } from './store/idempotency-store.js';
import { migrateToLatest } from './store/migrations.js';
import { SecretStore } from './store/secret-store.js';
import { closeGracefully } from './surfaces/http/graceful-close.js';
import { createHttpServer } from './surfaces/http/http-server.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { WebhookOutbox } from './webhooks/outbox.js';

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
  /** Draining state behind `/readyz`; `close()` sets it. */
  readiness: Readiness;
  /**
   * The webhook dispatcher: started with the app unless `config.webhookDispatcher` is false;
   * `runOnce()` runs one delivery pass now (tests drive it that way).
   */
  webhooks: WebhookDispatcher;
  /**
   * Drains the HTTP server (in-flight requests finish, within `config.shutdownTimeoutMs`
   * unless `drainTimeoutMs` says otherwise), then closes the database.
   */
  close(opts?: { drainTimeoutMs?: number }): Promise<void>;
}

export interface CreateOptions {
  logDestination?: DestinationStream;
  /** Test-only hooks into token refresh (e.g. a simulated crash before tokens are stored). */
  tokenHooks?: Pick<TokenServiceOptions, 'beforeStore' | 'retry' | 'leaseMs'>;
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
  const store: Store = openStore({
    url: config.databaseUrl,
    poolSize: config.dbPoolSize,
    onPoolError: (error) => logger.warn({ err: { message: error.message, code: (error as { code?: unknown }).code } }, 'database connection lost; the pool reconnects on the next query'),
  });
  try {
    await migrateToLatest(store.db, store.engine);
    // Refuses a root key that cannot unwrap the stored data keys, naming the key id needed.
    const keyring = await openKeyring(store, config, (m) => logger.warn(m));
    const audit = new AuditLog(store.engine, keyring.derivedKey('audit-chain'));
    const auditCommit = new AuditGroupCommit(store.db, audit);
    const secrets = new SecretStore(keyring);
    const guard = new OutboundGuard({ allowPrivateNetworks: config.allowPrivateNetworks });
    const metrics = createMetrics({ version: VERSION, engine: store.engine });
    keyring.observe((operation, kind, count) => metrics.keyUse(operation, kind, count));
    const webhookOutbox = new WebhookOutbox();
    const tokens = new TokenService(
      { db: store.db, keyring, secrets, catalog, audit, guard },
      {
        instanceId: `lk-${randomUUID()}`,
        refreshMarginMs: config.refreshMarginMs,
        timeoutMs: config.oauthTimeoutMs,
        allowInsecure: config.allowPrivateNetworks,
        onOutcome: (outcome) => metrics.refresh(outcome),
        onEvent: async (trx, tenantId, event) => {
          await webhookOutbox.enqueue(trx, tenantId, event);
        },
        ...(opts.tokenHooks ?? {}),
      },
    );
    const services: Services = {
      store,
      keyring,
      secrets,
      catalog,
      audit,
      auditCommit,
      guard,
      testTimeoutMs: config.testTimeoutMs,
      metrics,
      tokens,
      connect: new ConnectSessions({
        db: store.db,
        keyring,
        secrets,
        catalog,
        audit,
        tokens,
        publicUrl: config.publicUrl,
        logger,
        onEvent: async (trx, tenantId, event) => {
          await webhookOutbox.enqueue(trx, tenantId, event);
        },
      }),
      webhooks: webhookOutbox,
    };
    const webhooks = new WebhookDispatcher({
      store,
      secrets,
      outbox: webhookOutbox,
      guard,
      logger,
      metrics,
      timeoutMs: config.webhookTimeoutMs,
      retry: { maxAttempts: config.webhookMaxAttempts, baseDelayMs: config.webhookRetryBaseMs, maxDelayMs: 6 * 60 * 60_000 },
      pollIntervalMs: config.webhookPollMs,
      userAgent: `Latchkey-Webhooks/${VERSION}`,
    });
    const idempotency = new IdempotencyStore(keyring);
    const sweeper = new RefreshSweeper(tokens, services.connect, config.refreshSweepMs, logger);
    const authenticator = new Authenticator(store);
    const registry = new Registry(ALL_CONTRACTS, {
      store,
      audit,
      auditCommit,
      idempotency,
      onInternalError: (key, error) => logger.error({ operation: key, err: error }, 'operation failed'),
    });
    bindHandlers(registry, services, { onKeyRevoked: (id) => authenticator.forget(id) }).seal();
    const first = await bootstrapFirstTenant(store, keyring, audit, config.bootstrapKey);
    await keyring.warm(store.db);
    const readiness = new Readiness();
    const app = createHttpServer({
      registry,
      authenticator,
      store,
      logger,
      version: VERSION,
      publicUrl: config.publicUrl,
      bodyLimitBytes: config.bodyLimitBytes,
      rateLimitPerSecond: config.rateLimitPerSecond,
      metrics: services.metrics,
      metricsPublic: config.metricsPublic,
      readiness,
      connect: services.connect,
      proxy: { services, timeoutMs: config.proxyTimeoutMs, bodyLimitBytes: config.proxyBodyLimitBytes },
    });
    sweeper.start();
    const idempotencyPurge = startIdempotencyPurge({ store, idempotency, logger });
    const keyMaintenance = startKeyMaintenance({ store, keyring, audit, logger, rotationDays: config.dataKeyRotationDays });
    if (config.webhookDispatcher) webhooks.start();
    return {
      config,
      app,
      registry,
      services,
      logger,
      firstAdminKey: first?.adminKey ?? null,
      readiness,
      webhooks,
      async close(how = {}) {
        const timeoutMs = how.drainTimeoutMs ?? config.shutdownTimeoutMs;
        const { forced } = await closeGracefully(app, { readiness, timeoutMs });
        if (forced) logger.warn({ timeoutMs }, 'shutdown: in-flight requests did not finish in time and were cut');
        await sweeper.stop();
        idempotencyPurge.stop();
        keyMaintenance.stop();
        await webhooks.stop();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
