import type { Generated } from 'kysely';

/**
 * Table shapes shared by both engines. Portable types only: text, integer (booleans as
 * 0/1, since better-sqlite3 cannot bind JS booleans) and ISO-8601 text timestamps, so one
 * query code serves SQLite and PostgreSQL.
 */
export interface TenantTable {
  id: string;
  name: string;
  is_platform: number;
  audit_seq: number;
  audit_head: string;
  created_at: string;
}

export interface ApiKeyTable {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  policies: string; // JSON array of explicit policy keys
  user_id: string | null;
  workspace_id: string | null;
  key_lookup: string;
  key_hash: string;
  /** First characters of the key, to recognise it in lists. */
  key_prefix: string;
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
  expires_at: string | null;
}

export interface DataKeyTable {
  tenant_id: string;
  version: number;
  root_key_id: string;
  /** The data key wrapped by the root key; empty once the version is retired. */
  wrapped: string;
  created_at: string;
  /** When a newer version took over; a superseded version never encrypts again. */
  superseded_at?: string | null;
  /** When the version was retired (no ciphertext referenced it); its key is gone. */
  retired_at?: string | null;
  /** Encryptions made with this version (AES-GCM random nonces: rotate before 2^32). */
  encryptions?: number;
}

/** Root key versions in the order they became current; the highest `seq` wraps new keys. */
export interface RootKeyTable {
  id: string;
  provider: string;
  seq: number;
  created_at: string;
  retired_at: string | null;
}

/** Secrets of the installation itself (the derivation secret of audit-chain and digest keys), wrapped by the root key. */
export interface SystemKeyTable {
  name: string;
  root_key_id: string;
  wrapped: string;
  created_at: string;
}

/** A resumable key job (re-encryption): its target versions per tenant and how far it got. */
export interface KeyJobTable {
  id: string;
  kind: string;
  state: string; // running | done
  targets: string; // JSON { tenantId: version }
  cursor: string | null; // JSON position of the last committed batch
  processed: number;
  total: number;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface IntegrationTable {
  uid: string;
  tenant_id: string;
  key: string;
  provider: string;
  display_name: string;
  description: string | null;
  scope: string;
  workspace_id: string | null;
  owner_user_id: string | null;
  auth_method: string;
  config: string;
  enabled: number;
  tags: string;
  allow_reveal: number;
  network_allow_list: string;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  updated_by: string | null;
  version: number;
}

export interface ConnectionTable {
  uid: string;
  tenant_id: string;
  integration_uid: string;
  integration_key: string;
  id: string;
  provider: string;
  config: string;
  metadata: string;
  labels: string;
  enabled: number;
  credential_type: string;
  expires_at: string | null;
  scopes: string | null;
  token_type: string | null;
  last_refreshed_at: string | null;
  status: string;
  status_reason: string | null;
  health: string | null;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  updated_by: string | null;
  version: number;
  /** Refresh lease: which instance is refreshing the token, and until when (see src/oauth/refresh-lease.ts). */
  refresh_lock_owner?: string | null;
  refresh_lock_until?: string | null;
  /** Transient refresh failures in a row, and when the background sweep may try again. */
  refresh_failures?: number;
  next_refresh_at?: string | null;
}

/** One OAuth connect flow. The token and state are stored as hashes; the PKCE verifier encrypted. */
export interface ConnectSessionTable {
  uid: string;
  tenant_id: string;
  integration_uid: string;
  integration_key: string;
  connection_id: string;
  metadata: string;
  redirect_url: string | null;
  token_hash: string;
  state_hash: string | null;
  /** SHA-256 of the cookie set in the browser that opened the link (`0006_connect_browser_binding`). */
  binding_hash: string | null;
  verifier: string | null;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  opened_at: string | null;
  completed_at: string | null;
  outcome: string | null;
}

/** One encrypted secret field of one record. Values are never kept in any other table. */
export interface SecretTable {
  owner_uid: string;
  field: string;
  tenant_id: string;
  owner_kind: string;
  key_version: number;
  ciphertext: string;
  updated_at: string;
}

export interface AuditEventTable {
  id: string;
  tenant_id: string;
  seq: number;
  at: string;
  actor: string;
  actor_key_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  outcome: string;
  status: number;
  request_id: string | null;
  ip: string | null;
  changes: string | null;
  prev_hash: string;
  hash: string;
}

export interface IdempotencyTable {
  tenant_id: string;
  idem_key: string;
  operation: string;
  fingerprint: string;
  state: string; // pending | done
  status: number | null;
  response: string | null; // encrypted with the tenant's data key
  created_at: string;
}

/** A tenant's webhook endpoint. Its signing secret is in `secrets` (kind `webhook`), never here. */
export interface WebhookEndpointTable {
  uid: string;
  tenant_id: string;
  url: string;
  events: string; // JSON array of event types
  description: string | null;
  enabled: number;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  updated_by: string | null;
  version: number;
}

/** One event for one endpoint: the outbox row, its lease and its attempts. Payloads hold no secrets. */
export interface WebhookDeliveryTable {
  /** Also the `webhook-id` header: the same on every attempt, so receivers can deduplicate. */
  id: string;
  tenant_id: string;
  endpoint_uid: string;
  event_id: string;
  event_type: string;
  payload: string; // the exact JSON body sent
  status: string; // pending | succeeded | failed
  attempts: number;
  attempt_log: string; // JSON array of { at, statusCode, error, durationMs }
  next_attempt_at: string | null;
  lease_token: string | null;
  lease_until: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface Database {
  tenants: TenantTable;
  api_keys: ApiKeyTable;
  data_keys: DataKeyTable;
  root_keys: RootKeyTable;
  system_keys: SystemKeyTable;
  key_jobs: KeyJobTable;
  integrations: IntegrationTable;
  connections: ConnectionTable;
  connect_sessions: ConnectSessionTable;
  secrets: SecretTable;
  audit_events: AuditEventTable;
  idempotency_keys: IdempotencyTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  kysely_migration?: { name: string; timestamp: Generated<string> };
}
