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
  wrapped: string;
  created_at: string;
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

export interface Database {
  tenants: TenantTable;
  api_keys: ApiKeyTable;
  data_keys: DataKeyTable;
  integrations: IntegrationTable;
  connections: ConnectionTable;
  secrets: SecretTable;
  audit_events: AuditEventTable;
  idempotency_keys: IdempotencyTable;
  kysely_migration?: { name: string; timestamp: Generated<string> };
}
