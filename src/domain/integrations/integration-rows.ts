import type { Kysely } from 'kysely';
import type { Principal } from '../../contracts/context.js';
import type { IntegrationRecord } from '../../contracts/integrations/records.js';
import { notFound } from '../../errors.js';
import type { ProviderCatalog } from '../../providers/catalog.js';
import type { AuthMethod } from '../../providers/provider-schema.js';
import type { Engine } from '../../store/database.js';
import { reusableQuery } from '../../store/reusable-query.js';
import type { Database, IntegrationTable } from '../../store/schema.js';
import { hasSecretsMap } from '../carry-forward.js';
import { parametersFor } from '../parameter-validation.js';
import { canSee } from '../visibility.js';

/**
 * Loads an integration the principal may see, or throws 404 (also for other tenants).
 * `lock: 'postgres'` takes the row lock (`FOR UPDATE`) for a read-modify-write in a
 * transaction, so concurrent writers queue instead of failing each other's version check
 * (SQLite already runs one write transaction at a time).
 */
const integrationByKey = (db: Kysely<Database>, tenantId: string, key: string) => db.selectFrom('integrations').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key);
const readIntegration = reusableQuery(integrationByKey);

export async function loadIntegration(db: Kysely<Database>, principal: Principal, key: string, lock?: Engine): Promise<IntegrationTable> {
  const row = lock === 'postgres' ? await integrationByKey(db, principal.tenantId, key).forUpdate().executeTakeFirst() : (await readIntegration(db, principal.tenantId, key))[0];
  if (!row || !canSee(principal, row)) throw notFound(`Integration "${key}"`);
  return row;
}

/** Secret parameter names declared for an integration's provider and auth method. */
export function declaredIntegrationSecrets(catalog: ProviderCatalog, provider: string, authMethod: string): string[] {
  const def = catalog.get(provider);
  if (!def) return [];
  return parametersFor(def.parameters, 'integration', authMethod as AuthMethod)
    .filter((p) => p.secret)
    .map((p) => p.name);
}

export function toIntegrationRecord(row: IntegrationTable, secretNames: ReadonlySet<string>, catalog: ProviderCatalog): IntegrationRecord {
  return {
    key: row.key,
    uid: row.uid,
    provider: row.provider,
    displayName: row.display_name,
    description: row.description,
    scope: row.scope as IntegrationRecord['scope'],
    workspaceId: row.workspace_id,
    ownerUserId: row.owner_user_id,
    authMethod: row.auth_method as IntegrationRecord['authMethod'],
    config: JSON.parse(row.config),
    hasSecrets: hasSecretsMap(declaredIntegrationSecrets(catalog, row.provider, row.auth_method), secretNames),
    enabled: row.enabled === 1,
    tags: JSON.parse(row.tags),
    allowReveal: row.allow_reveal === 1,
    networkAllowList: JSON.parse(row.network_allow_list),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    version: Number(row.version),
  };
}
