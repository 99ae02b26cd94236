import type { AuditGroupCommit } from '../audit/audit-group-commit.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { OutboundGuard } from '../net/outbound-guard.js';
import type { Metrics } from '../observability/metrics.js';
import type { ConnectSessions } from '../oauth/connect-sessions.js';
import type { TokenService } from '../oauth/token-service.js';
import type { ProviderCatalog } from '../providers/catalog.js';
import type { Store } from '../store/database.js';
import type { SecretStore } from '../store/secret-store.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';

/** What handlers need from the edges, injected once at start-up. */
export interface Services {
  store: Store;
  keyring: Keyring;
  secrets: SecretStore;
  catalog: ProviderCatalog;
  audit: AuditLog;
  /** Audit writes shared by concurrent calls whose only write is their event (token mints, proxied calls). */
  auditCommit: AuditGroupCommit;
  /** The operator-level outbound guard; integrations may widen it with their allow-list. */
  guard: OutboundGuard;
  testTimeoutMs: number;
  /** Prometheus counters (refresh, tests, webhooks, key use); labels never carry ids or secrets. */
  metrics: Metrics;
  /** OAuth tokens: minting, single-flight refresh and the background sweep. */
  tokens: TokenService;
  /** The OAuth connect flow (sessions, consent redirect, callback). */
  connect: ConnectSessions;
  /**
   * The webhook outbox: `webhooks.enqueue(trx, tenantId, { type, data })` inside the
   * change's transaction (see `WebhookOutbox.enqueue`; `connectionEvent` builds the event).
   */
  webhooks: WebhookOutbox;
}
