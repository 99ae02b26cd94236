import type { Kysely } from 'kysely';
import type { Principal } from '../../contracts/context.js';
import { canSee } from '../visibility.js';
import { notFound } from '../../errors.js';
import { reusableQuery } from '../../store/reusable-query.js';
import type { ConnectionTable, Database, IntegrationTable } from '../../store/schema.js';

/**
 * The integration and connection a call names, in one statement (the proxy and token
 * mints run it on every request; statements, not rows, dominate their database cost). 404 when
 * either is missing, belongs to another tenant, or the principal may not see the
 * integration (workspace or user scope) — never a 403, so nothing leaks.
 *
 * @example
 * ```ts
 * const { integration, row } = await loadConnectionTarget(db, principal, 'github-prod', 'user-42');
 * ```
 */
export async function loadConnectionTarget(db: Kysely<Database>, principal: Principal, key: string, id: string): Promise<{ integration: IntegrationTable; row: ConnectionTable }> {
  const [found] = await targetQuery(db, principal.tenantId, key, id);
  if (!found) throw notFound(`Connection "${id}" of integration "${key}"`);
  return splitRows(principal, found, key, id);
}

// Compiled once per dialect: building this 20-alias join cost more than running it.
const targetQuery = reusableQuery((db: Kysely<Database>, tenantId: string, key: string, id: string) =>
  db
    .selectFrom('connections')
    .innerJoin('integrations', 'integrations.uid', 'connections.integration_uid')
    .selectAll('connections')
    .select([
      'integrations.uid as i_uid',
      'integrations.tenant_id as i_tenant_id',
      'integrations.key as i_key',
      'integrations.provider as i_provider',
      'integrations.display_name as i_display_name',
      'integrations.description as i_description',
      'integrations.scope as i_scope',
      'integrations.workspace_id as i_workspace_id',
      'integrations.owner_user_id as i_owner_user_id',
      'integrations.auth_method as i_auth_method',
      'integrations.config as i_config',
      'integrations.enabled as i_enabled',
      'integrations.tags as i_tags',
      'integrations.allow_reveal as i_allow_reveal',
      'integrations.network_allow_list as i_network_allow_list',
      'integrations.created_at as i_created_at',
      'integrations.updated_at as i_updated_at',
      'integrations.created_by as i_created_by',
      'integrations.updated_by as i_updated_by',
      'integrations.version as i_version',
    ])
    .where('integrations.tenant_id', '=', tenantId)
    .where('integrations.key', '=', key)
    .where('connections.id', '=', id),
);

type TargetRow = Awaited<ReturnType<typeof targetQuery>>[number];

function splitRows(principal: Principal, found: TargetRow, key: string, id: string): { integration: IntegrationTable; row: ConnectionTable } {
  const {
    i_uid,
    i_tenant_id,
    i_key,
    i_provider,
    i_display_name,
    i_description,
    i_scope,
    i_workspace_id,
    i_owner_user_id,
    i_auth_method,
    i_config,
    i_enabled,
    i_tags,
    i_allow_reveal,
    i_network_allow_list,
    i_created_at,
    i_updated_at,
    i_created_by,
    i_updated_by,
    i_version,
    ...row
  } = found;
  const integration: IntegrationTable = {
    uid: i_uid,
    tenant_id: i_tenant_id,
    key: i_key,
    provider: i_provider,
    display_name: i_display_name,
    description: i_description,
    scope: i_scope,
    workspace_id: i_workspace_id,
    owner_user_id: i_owner_user_id,
    auth_method: i_auth_method,
    config: i_config,
    enabled: Number(i_enabled),
    tags: i_tags,
    allow_reveal: Number(i_allow_reveal),
    network_allow_list: i_network_allow_list,
    created_at: i_created_at,
    updated_at: i_updated_at,
    created_by: i_created_by,
    updated_by: i_updated_by,
    version: Number(i_version),
  };
  if (!canSee(principal, integration)) throw notFound(`Connection "${id}" of integration "${key}"`);
  return { integration, row };
}
