import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Principal } from '../../contracts/context.js';
import type { Engine } from '../../store/database.js';
import { reusableQuery } from '../../store/reusable-query.js';
import { canSee } from '../visibility.js';
import type { ConnectionRecord } from '../../contracts/integrations/records.js';
import { LatchkeyError, notFound } from '../../errors.js';
import type { ProviderCatalog } from '../../providers/catalog.js';
import type { AuthMethod, CredentialType, ProviderDefinition } from '../../providers/provider-schema.js';
import type { ConnectionTable, Database, IntegrationTable } from '../../store/schema.js';
import { hasSecretsMap } from '../carry-forward.js';
import { credentialFields } from '../credential-fields.js';
import { parametersFor, validateConfig } from '../parameter-validation.js';

/** The provider of an integration; 409 if it has left the catalog since. */
export function providerOfIntegration(catalog: ProviderCatalog, integration: IntegrationTable): ProviderDefinition {
  const provider = catalog.get(integration.provider);
  if (!provider) throw new LatchkeyError('conflict', `provider ${integration.provider} is no longer in the catalog`, { reason: 'provider_missing' });
  return provider;
}

/** A connection of a (visible) integration, or 404; `lock: 'postgres'` takes its row lock (see `loadIntegration`). */
const connectionById = (db: Kysely<Database>, integrationUid: string, id: string) => db.selectFrom('connections').selectAll().where('integration_uid', '=', integrationUid).where('id', '=', id);
const readConnectionRow = reusableQuery(connectionById);

export async function loadConnectionRow(db: Kysely<Database>, integration: IntegrationTable, id: string, lock?: Engine): Promise<ConnectionTable> {
  const row = lock === 'postgres' ? await connectionById(db, integration.uid, id).forUpdate().executeTakeFirst() : (await readConnectionRow(db, integration.uid, id))[0];
  if (!row) throw notFound(`Connection "${id}" of integration "${integration.key}"`);
  return row;
}

/** Validates connection-level config against the provider's connection parameters. */
export function validateConnectionConfig(catalog: ProviderCatalog, integration: IntegrationTable, config: Record<string, unknown>): Record<string, unknown> {
  const params = parametersFor(providerOfIntegration(catalog, integration).parameters, 'connection', integration.auth_method as AuthMethod).filter((p) => !p.secret);
  return validateConfig(params, config, 'config');
}

/**
 * The status shown: `disabled` when switched off, `error` when a refresh or test said so,
 * `expired` when the token's time is up and there is no refresh token, else `active`.
 */
export function effectiveStatus(row: ConnectionTable, secretNames: ReadonlySet<string>, now: Date): ConnectionRecord['status'] {
  if (row.enabled !== 1) return 'disabled';
  if (row.status === 'error') return 'error';
  if (row.expires_at && Date.parse(row.expires_at) <= now.getTime() && !secretNames.has('refreshToken')) return 'expired';
  return 'active';
}

export function toConnectionRecord(row: ConnectionTable, secretNames: ReadonlySet<string>, catalog: ProviderCatalog, now: Date): ConnectionRecord {
  const provider = catalog.get(row.provider);
  const declared = provider ? credentialFields(row.credential_type as CredentialType, provider).filter((f) => f.secret).map((f) => f.name) : [];
  return {
    id: row.id,
    uid: row.uid,
    integration: row.integration_key,
    provider: row.provider,
    config: JSON.parse(row.config),
    metadata: JSON.parse(row.metadata),
    labels: JSON.parse(row.labels),
    enabled: row.enabled === 1,
    credentials: {
      type: row.credential_type as CredentialType,
      hasSecrets: hasSecretsMap(declared, secretNames),
      expiresAt: row.expires_at,
      scopes: row.scopes === null ? null : JSON.parse(row.scopes),
      lastRefreshedAt: row.last_refreshed_at,
    },
    status: effectiveStatus(row, secretNames, now),
    statusReason: row.status_reason,
    health: row.health === null ? null : JSON.parse(row.health),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    version: Number(row.version),
  };
}

/** The hot read as a {@link reusableQuery} (one per engine: the secret names aggregate differs). */
function readWithNamesQuery(names: RawBuilder<string | null>) {
  return reusableQuery((db, tenantId: string, integrationKey: string, id: string) =>
    db
      .selectFrom('connections')
      .innerJoin('integrations', 'integrations.uid', 'connections.integration_uid')
      .selectAll('connections')
      .select(['integrations.scope as i_scope', 'integrations.workspace_id as i_workspace_id', 'integrations.owner_user_id as i_owner_user_id', names.as('secret_names')])
      .where('integrations.tenant_id', '=', tenantId)
      .where('integrations.key', '=', integrationKey)
      .where('connections.id', '=', id),
  );
}
// Secret field names are camelCase identifiers, so a comma-joined list is unambiguous.
const readWithNames = {
  sqlite: readWithNamesQuery(sql<string | null>`(select group_concat(s.field, ',') from secrets s where s.owner_uid = connections.uid)`),
  postgres: readWithNamesQuery(sql<string | null>`(select string_agg(s.field, ',') from secrets s where s.owner_uid = connections.uid)`),
};

/**
 * A connection with its secret names and its integration's visibility, in one statement:
 * the read path's cost is dominated by statements, not rows. Returns null when the
 * integration or connection does not exist or is not visible to the principal.
 */
export async function readConnectionWithSecretNames(
  db: Kysely<Database>,
  engine: Engine,
  principal: Principal,
  integrationKey: string,
  id: string,
): Promise<{ row: ConnectionTable; secretNames: Set<string> } | null> {
  const [found] = await (engine === 'postgres' ? readWithNames.postgres : readWithNames.sqlite)(db, principal.tenantId, integrationKey, id);
  if (!found || !canSee(principal, { scope: found.i_scope, workspace_id: found.i_workspace_id, owner_user_id: found.i_owner_user_id })) return null;
  const { i_scope: _s, i_workspace_id: _w, i_owner_user_id: _o, secret_names, ...row } = found;
  return { row, secretNames: new Set(secret_names ? secret_names.split(',') : []) };
}
