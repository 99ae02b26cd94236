import { sql } from 'kysely';
import type { HandlerContext } from '../../contracts/context.js';
import type { InputOf } from '../../contracts/define.js';
import { type CreateIntegration, type DeleteIntegration, type GetIntegration, ListIntegrations, type ReplaceIntegration, type UpdateIntegration } from '../../contracts/integrations/integration-contracts.js';
import type { IntegrationRecord } from '../../contracts/integrations/records.js';
import { LatchkeyError, fieldError } from '../../errors.js';
import { newId } from '../../ids.js';
import { AllowList } from '../../net/allow-list.js';
import type { IntegrationTable } from '../../store/schema.js';
import { listCursor } from '../cursor.js';
import { isUniqueViolation } from '../db-errors.js';
import { allowedCredentialTypes } from '../credential-fields.js';
import { mergeConfig } from '../merge-config.js';
import { parametersFor } from '../parameter-validation.js';
import type { Services } from '../services.js';
import { assertIfMatch, concurrentModification } from '../versioning.js';
import { assertCanManage, visibleIntegrations } from '../visibility.js';
import { connectionEvent, eventSubjectOf } from '../webhooks/connection-events.js';
import { loadIntegration, toIntegrationRecord } from './integration-rows.js';
import { type DesiredIntegration, resolveIntegration } from './integration-state.js';

/** Allow-list entries must parse as the outbound guard reads them; duplicates collapse. */
function checkedAllowList(entries: string[]): string[] {
  const unique = [...new Set(entries)];
  try {
    new AllowList(unique);
  } catch (error) {
    throw fieldError('networkAllowList', (error as Error).message);
  }
  return unique;
}

const providerOf = (services: Services, key: string) => {
  const provider = services.catalog.get(key);
  if (!provider) throw fieldError('provider', `unknown provider "${key}"`);
  return provider;
};

/** Names of the non-secret fields whose stored value differs. */
function changedFields(before: IntegrationTable | null, after: Omit<IntegrationTable, 'uid' | 'tenant_id' | 'key' | 'created_at' | 'created_by' | 'updated_at' | 'updated_by' | 'version'>): string[] {
  const names: Record<string, keyof typeof after> = {
    provider: 'provider',
    displayName: 'display_name',
    description: 'description',
    scope: 'scope',
    workspaceId: 'workspace_id',
    ownerUserId: 'owner_user_id',
    authMethod: 'auth_method',
    config: 'config',
    enabled: 'enabled',
    tags: 'tags',
    allowReveal: 'allow_reveal',
    networkAllowList: 'network_allow_list',
  };
  return Object.entries(names)
    .filter(([, column]) => before === null || before[column] !== after[column])
    .map(([name]) => name);
}

/** Integration operations: create, read, list, partial and full update, delete. */
export function integrationHandlers(services: Services) {
  const { secrets, catalog } = services;

  async function persist(
    ctx: HandlerContext,
    existing: IntegrationTable | null,
    fields: { key: string; provider: string; displayName: string; description: string | null; enabled: boolean; tags: string[]; allowReveal: boolean; networkAllowList: string[] },
    desired: DesiredIntegration,
  ): Promise<IntegrationRecord> {
    const provider = providerOf(services, fields.provider);
    const stored = existing ? await secrets.names(ctx.db, existing.uid) : new Set<string>();
    const resolved = resolveIntegration(provider, desired, ctx.principal, stored);
    if (existing && resolved.authMethod !== existing.auth_method) {
      const allowed = allowedCredentialTypes(provider, resolved.authMethod);
      const stranded = await ctx.db
        .selectFrom('connections')
        .select('id')
        .where('integration_uid', '=', existing.uid)
        .where('credential_type', 'not in', allowed)
        .limit(1)
        .executeTakeFirst();
      if (stranded) {
        throw new LatchkeyError('conflict', `connections of "${existing.key}" hold credentials that ${resolved.authMethod} does not allow (e.g. "${stranded.id}"); update or delete them first`, {
          reason: 'connections_incompatible',
        });
      }
    }
    const now = ctx.now.toISOString();
    const columns = {
      provider: fields.provider,
      display_name: fields.displayName,
      description: fields.description,
      scope: resolved.scope,
      workspace_id: resolved.workspaceId,
      owner_user_id: resolved.ownerUserId,
      auth_method: resolved.authMethod,
      config: JSON.stringify(resolved.config),
      enabled: fields.enabled ? 1 : 0,
      tags: JSON.stringify(fields.tags),
      allow_reveal: fields.allowReveal ? 1 : 0,
      network_allow_list: JSON.stringify(checkedAllowList(fields.networkAllowList)),
    };
    let row: IntegrationTable;
    if (existing) {
      assertCanManage(ctx.principal, existing);
      assertIfMatch(ctx.ifMatch, Number(existing.version));
      row = { ...existing, ...columns, updated_at: now, updated_by: ctx.principal.keyId, version: Number(existing.version) + 1 };
      const result = await ctx.db
        .updateTable('integrations')
        .set({ ...columns, updated_at: now, updated_by: ctx.principal.keyId, version: row.version })
        .where('uid', '=', existing.uid)
        .where('version', '=', existing.version)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw concurrentModification();
    } else {
      row = {
        uid: newId('int', ctx.now.getTime()),
        tenant_id: ctx.principal.tenantId,
        key: fields.key,
        ...columns,
        created_at: now,
        updated_at: now,
        created_by: ctx.principal.keyId,
        updated_by: ctx.principal.keyId,
        version: 1,
      };
      try {
        await ctx.db.insertInto('integrations').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new LatchkeyError('conflict', `an integration with key "${fields.key}" already exists`, { reason: 'duplicate_key' });
        throw error;
      }
    }
    await secrets.apply(ctx.db, ctx.principal.tenantId, 'integration', row.uid, resolved.plan, now);
    ctx.audit.resource = { type: 'integration', id: row.key };
    ctx.audit.changes = {
      fields: changedFields(existing, row),
      secretsChanged: [...Object.keys(resolved.plan.set), ...resolved.plan.remove].sort(),
    };
    return toIntegrationRecord(row, resolved.plan.resulting, catalog);
  }

  return {
    async create(input: InputOf<typeof CreateIntegration>, ctx: HandlerContext) {
      const exists = await ctx.db.selectFrom('integrations').select('uid').where('tenant_id', '=', ctx.principal.tenantId).where('key', '=', input.key).executeTakeFirst();
      if (exists) throw new LatchkeyError('conflict', `an integration with key "${input.key}" already exists`, { reason: 'duplicate_key' });
      return persist(
        ctx,
        null,
        { key: input.key, provider: input.provider, displayName: input.displayName, description: input.description ?? null, enabled: input.enabled, tags: input.tags, allowReveal: input.allowReveal, networkAllowList: input.networkAllowList },
        { authMethod: input.authMethod, scope: input.scope, workspaceId: input.workspaceId, ownerUserId: input.ownerUserId, config: input.config, secrets: input.secrets },
      );
    },

    async get(input: InputOf<typeof GetIntegration>, ctx: HandlerContext) {
      const row = await loadIntegration(ctx.db, ctx.principal, input.key);
      return toIntegrationRecord(row, await secrets.names(ctx.db, row.uid), catalog);
    },

    async list(input: InputOf<typeof ListIntegrations>, ctx: HandlerContext) {
      const cursor = listCursor(ListIntegrations.meta.key, input, 'string');
      const after = cursor.after;
      let query = ctx.db.selectFrom('integrations').selectAll().where(visibleIntegrations(ctx.principal));
      if (after !== undefined) query = query.where('key', '>', after);
      if (input.provider) query = query.where('provider', '=', input.provider);
      if (input.scope) query = query.where('scope', '=', input.scope);
      if (input.enabled !== undefined) query = query.where('enabled', '=', input.enabled ? 1 : 0);
      // Tags are a JSON array; a quoted LIKE finds one exactly (tags cannot contain quotes).
      if (input.tag) query = query.where(sql<boolean>`tags like ${`%${JSON.stringify(input.tag).replace(/[%_!]/g, '!$&')}%`} escape '!'`);
      const rows = await query.orderBy('key').limit(input.limit + 1).execute();
      const page = cursor.page(rows, (r) => r.key);
      const names = await secrets.namesMany(ctx.db, page.rows.map((r) => r.uid));
      return { data: page.rows.map((r) => toIntegrationRecord(r, names.get(r.uid) ?? new Set(), catalog)), nextCursor: page.nextCursor };
    },

    async update(input: InputOf<typeof UpdateIntegration>, ctx: HandlerContext) {
      const row = await loadIntegration(ctx.db, ctx.principal, input.key, services.store.engine);
      const stored: Record<string, unknown> = JSON.parse(row.config);
      if (input.authMethod && input.authMethod !== row.auth_method) {
        // Stored keys (often defaults) of the old auth method would block the switch; drop them.
        const applies = new Set(parametersFor(providerOf(services, row.provider).parameters, 'integration', input.authMethod).map((p) => p.name));
        for (const name of Object.keys(stored)) if (!applies.has(name)) delete stored[name];
      }
      const config = mergeConfig(stored, input.config);
      return persist(
        ctx,
        row,
        {
          key: row.key,
          provider: row.provider,
          displayName: input.displayName ?? row.display_name,
          description: input.description === undefined ? row.description : input.description,
          enabled: input.enabled ?? row.enabled === 1,
          tags: input.tags ?? JSON.parse(row.tags),
          allowReveal: input.allowReveal ?? row.allow_reveal === 1,
          networkAllowList: input.networkAllowList ?? JSON.parse(row.network_allow_list),
        },
        {
          authMethod: (input.authMethod ?? row.auth_method) as DesiredIntegration['authMethod'],
          scope: input.scope ?? (row.scope as DesiredIntegration['scope']),
          workspaceId: input.workspaceId === undefined ? (input.scope && input.scope !== row.scope ? undefined : row.workspace_id) : input.workspaceId,
          ownerUserId: input.ownerUserId === undefined ? (input.scope && input.scope !== row.scope ? undefined : row.owner_user_id) : input.ownerUserId,
          config,
          secrets: input.secrets,
        },
      );
    },

    async replace(input: InputOf<typeof ReplaceIntegration>, ctx: HandlerContext) {
      const row = await loadIntegration(ctx.db, ctx.principal, input.key, services.store.engine);
      if (input.provider !== row.provider) throw fieldError('provider', `cannot change from ${row.provider}; create a new integration instead`);
      return persist(
        ctx,
        row,
        { key: row.key, provider: row.provider, displayName: input.displayName, description: input.description ?? null, enabled: input.enabled, tags: input.tags, allowReveal: input.allowReveal, networkAllowList: input.networkAllowList },
        // An omitted auth method keeps the stored one rather than the provider's default.
        { authMethod: input.authMethod ?? (row.auth_method as DesiredIntegration['authMethod']), scope: input.scope, workspaceId: input.workspaceId, ownerUserId: input.ownerUserId, config: input.config, secrets: input.secrets },
      );
    },

    async delete(input: InputOf<typeof DeleteIntegration>, ctx: HandlerContext) {
      // Locking the integration first makes a concurrent connection create wait (its
      // foreign key needs the row), so the count below cannot miss a connection.
      const row = await loadIntegration(ctx.db, ctx.principal, input.key, services.store.engine);
      assertCanManage(ctx.principal, row);
      assertIfMatch(ctx.ifMatch, Number(row.version));
      const count = await ctx.db
        .selectFrom('connections')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('integration_uid', '=', row.uid)
        .executeTakeFirstOrThrow();
      const connections = Number(count.n);
      if (connections > 0 && !input.cascade) {
        throw new LatchkeyError('conflict', `integration "${row.key}" still has ${connections} connection(s); delete them first or pass cascade=true`, { reason: 'connections_exist' });
      }
      // Rows before secrets, as every update does, so a concurrent connection update and
      // this cascade take their locks in the same order.
      let lockRows = ctx.db.selectFrom('connections').selectAll().where('integration_uid', '=', row.uid);
      if (services.store.engine === 'postgres') lockRows = lockRows.forUpdate();
      const cascaded = await lockRows.execute();
      // Each connection deleted with its integration is a connection.deleted for subscribers.
      const names = cascaded.length > 0 ? await services.secrets.namesMany(ctx.db, cascaded.map((c) => c.uid)) : new Map<string, Set<string>>();
      const deletedEvents = cascaded.map((c) =>
        connectionEvent('connection.deleted', eventSubjectOf(c, names.get(c.uid) ?? new Set(), ctx.now)),
      );
      await services.webhooks.enqueueAll(ctx.db, ctx.principal.tenantId, deletedEvents, ctx.now);
      const connectionUids = ctx.db.selectFrom('connections').select('uid').where('integration_uid', '=', row.uid);
      await ctx.db.deleteFrom('secrets').where('owner_uid', 'in', connectionUids).execute();
      await ctx.db.deleteFrom('connections').where('integration_uid', '=', row.uid).execute();
      await ctx.db.deleteFrom('integrations').where('uid', '=', row.uid).execute();
      // The integration's own secrets erased with it, by name (its connections' are counted in `connections`).
      const ownSecrets = await services.secrets.names(ctx.db, row.uid);
      await ctx.db.deleteFrom('secrets').where('owner_uid', '=', row.uid).execute();
      ctx.audit.resource = { type: 'integration', id: row.key };
      ctx.audit.changes = { fields: connections > 0 ? ['connections'] : [], secretsChanged: [...ownSecrets].sort() };
      return { key: row.key, deleted: true as const, connectionsDeleted: connections };
    },
  };
}
