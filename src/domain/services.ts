import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { OutboundGuard } from '../net/outbound-guard.js';
import type { ProviderCatalog } from '../providers/catalog.js';
import type { Store } from '../store/database.js';
import type { SecretStore } from '../store/secret-store.js';

/** What handlers need from the edges, injected once at start-up. */
export interface Services {
  store: Store;
  keyring: Keyring;
  secrets: SecretStore;
  catalog: ProviderCatalog;
  audit: AuditLog;
  /** The operator-level outbound guard; integrations may widen it with their allow-list. */
  guard: OutboundGuard;
  testTimeoutMs: number;
}
