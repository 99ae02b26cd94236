import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { scopedToSchema } from './current-schema-introspector.js';

/**
 * Forward-only migrations, written once with portable column types and run by both
 * engines. Never edit a shipped migration; add the next one.
 */
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('is_platform', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('audit_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('audit_head', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('policies', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('workspace_id', 'text')
        .addColumn('key_lookup', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('key_prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('expires_at', 'text')
        .execute();
      await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant_id', 'id']).execute();
      await db.schema.createIndex('api_keys_lookup').on('api_keys').column('key_lookup').execute();

      await db.schema
        .createTable('data_keys')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('root_key_id', 'text', (c) => c.notNull())
        .addColumn('wrapped', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('data_keys_pk', ['tenant_id', 'version'])
        .execute();

      await db.schema
        .createTable('integrations')
        .addColumn('uid', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('workspace_id', 'text')
        .addColumn('owner_user_id', 'text')
        .addColumn('auth_method', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('allow_reveal', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_by', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addUniqueConstraint('integrations_tenant_key', ['tenant_id', 'key'])
        .execute();

      await db.schema
        .createTable('connections')
        .addColumn('uid', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('integration_uid', 'text', (c) => c.notNull().references('integrations.uid'))
        .addColumn('integration_key', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('credential_type', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('scopes', 'text')
        .addColumn('token_type', 'text')
        .addColumn('last_refreshed_at', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('health', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_by', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addUniqueConstraint('connections_integration_id', ['integration_uid', 'id'])
        .execute();
      // Keyset pagination: per integration and across the tenant, both by uid (time-ordered).
      await db.schema.createIndex('connections_integration_uid').on('connections').columns(['integration_uid', 'uid']).execute();
      await db.schema.createIndex('connections_tenant_uid').on('connections').columns(['tenant_id', 'uid']).execute();
      await db.schema.createIndex('connections_expiry').on('connections').columns(['expires_at']).execute();

      await db.schema
        .createTable('secrets')
        .addColumn('owner_uid', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('owner_kind', 'text', (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('secrets_pk', ['owner_uid', 'field'])
        .execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_key_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text')
        .addColumn('resource_id', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('changes', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addUniqueConstraint('audit_events_tenant_seq', ['tenant_id', 'seq'])
        .execute();
      await db.schema.createIndex('audit_events_action').on('audit_events').columns(['tenant_id', 'action', 'seq']).execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('idem_key', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('response', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_pk', ['tenant_id', 'idem_key'])
        .execute();
    },
  },
  '0002_integration_network_allow_list': {
    // Per-integration exceptions to the outbound guard (hosts or CIDRs a test, proxy or
    // OAuth call may reach even though they are private), as a JSON array.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('integrations').addColumn('network_allow_list', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    },
  },
  '0003_oauth': {
    // Refresh coordination on the connection row (a lease with an owner, so instances sharing
    // the database refresh a connection once), and the connect sessions of the OAuth flow.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('connections').addColumn('refresh_lock_owner', 'text').execute();
      await db.schema.alterTable('connections').addColumn('refresh_lock_until', 'text').execute();
      await db.schema.alterTable('connections').addColumn('refresh_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('connections').addColumn('next_refresh_at', 'text').execute();
      await db.schema
        .createTable('connect_sessions')
        .addColumn('uid', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('integration_uid', 'text', (c) => c.notNull())
        .addColumn('integration_key', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('redirect_url', 'text')
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('state_hash', 'text', (c) => c.unique())
        .addColumn('verifier', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'text')
        .addColumn('completed_at', 'text')
        .addColumn('outcome', 'text')
        .execute();
      await db.schema.createIndex('connect_sessions_expiry').on('connect_sessions').column('expires_at').execute();
    },
  },
  '0004_key_management': {
    // Key management: data-key versions are superseded (never used to encrypt again) and
    // later retired; each counts its encryptions (AES-GCM random nonces: rotate long before
    // 2^32). `root_keys` records which root key version wraps new keys, so every instance
    // agrees; `system_keys` holds the wrapped secret the audit chain and digests derive from;
    // `key_jobs` makes re-encryption resumable.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('data_keys').addColumn('superseded_at', 'text').execute();
      await db.schema.alterTable('data_keys').addColumn('retired_at', 'text').execute();
      // bigint: PostgreSQL's integer stops at 2^31, below the rotation threshold.
      await db.schema.alterTable('data_keys').addColumn('encryptions', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      // Only the newest version of each tenant stays current.
      await sql`update data_keys set superseded_at = created_at
        where version < (select max(d2.version) from data_keys d2 where d2.tenant_id = data_keys.tenant_id)`.execute(db);
      await db.schema
        .createTable('root_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .execute();
      await db.schema
        .createTable('system_keys')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('root_key_id', 'text', (c) => c.notNull())
        .addColumn('wrapped', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('key_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('targets', 'text', (c) => c.notNull())
        .addColumn('cursor', 'text')
        .addColumn('processed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      // Version first: lookups by (tenant, version) and the re-encryption sweep use it, and a
      // leading tenant_id would tempt SQLite's planner away from the primary key for reads of
      // one record (`owner_uid = ? and tenant_id = ?`), scanning the whole tenant instead.
      await db.schema.createIndex('secrets_key_version').on('secrets').columns(['key_version', 'tenant_id']).execute();
    },
  },
  '0005_webhooks': {
    // Tenants' webhook endpoints (the signing secret lives encrypted in `secrets`), and the
    // outbox: one delivery per (event, endpoint), written in the transaction of the change,
    // claimed by one dispatcher at a time through a lease (plus SKIP LOCKED on PostgreSQL).
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('uid', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_by', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_endpoints_tenant_uid').on('webhook_endpoints').columns(['tenant_id', 'uid']).execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('endpoint_uid', 'text', (c) => c.notNull().references('webhook_endpoints.uid').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attempt_log', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('next_attempt_at', 'text')
        .addColumn('lease_token', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('completed_at', 'text')
        .execute();
      await db.schema.createIndex('webhook_deliveries_endpoint_id').on('webhook_deliveries').columns(['endpoint_uid', 'id']).execute();
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('webhook_deliveries_completed').on('webhook_deliveries').columns(['completed_at']).execute();
    },
  },
  '0006_connect_browser_binding': {
    // The hash of the cookie a connect link sets in the browser that opens it; the callback
    // requires it, so a forwarded authorization URL cannot complete someone else's flow.
    // Sessions opened before this have none and are refused at the callback (they expire
    // within a day at most).
    async up(db: Kysely<any>) {
      await db.schema.alterTable('connect_sessions').addColumn('binding_hash', 'text').execute();
    },
  },
  '0007_idempotency_created_at_index': {
    // Expired Idempotency-Key records are deleted by age every few minutes on every
    // instance: without an index that delete scans the whole table.
    async up(db: Kysely<any>) {
      await db.schema.createIndex('idempotency_keys_created_at').on('idempotency_keys').column('created_at').execute();
    },
  },
};

class InCodeMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Runs every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>, engine: 'sqlite' | 'postgres' = 'sqlite'): Promise<string[]> {
  // On PostgreSQL, Kysely would otherwise look for its migration tables in every schema of
  // the database and mistake another deployment's (or test's) for this one's — and its
  // database-wide scan fails outright when a neighbouring schema is dropped meanwhile.
  const schema = engine === 'postgres' ? (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  if (engine === 'postgres' && !schema) throw new Error('PostgreSQL has no current schema: create the schema named in search_path first');
  const migrator = schema
    ? new Migrator({ db: scopedToSchema(db, schema), provider: new InCodeMigrations(), migrationTableSchema: schema })
    : new Migrator({ db, provider: new InCodeMigrations() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export const latestMigration = (): string => Object.keys(migrations).sort().at(-1)!;
export { sql };
