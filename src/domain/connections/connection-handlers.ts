import { sql } from 'kysely';
import type { HandlerContext } from '../../contracts/context.js';
import type { InputOf } from '../../contracts/define.js';
import { type CreateConnection, type DeleteConnection, type GetConnection, ListConnections, type UpdateConnection } from '../../contracts/integrations/connection-contracts.js';
import { LatchkeyError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { AuthMethod, CredentialType } from '../../providers/provider-schema.js';
import type { ConnectionTable, IntegrationTable } from '../../store/schema.js';
import { listCursor } from '../cursor.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db-errors.js';
import { mergeConfig } from '../merge-config.js';
import { loadIntegration } from '../integrations/integration-rows.js';
import type { Services } from '../services.js';
import { assertIfMatch, concurrentModification } from '../versioning.js';
import { visibleIntegrations } from '../visibility.js';
import { connectionEvent, eventSubjectOf } from '../webhooks/connection-events.js';
import {
  loadConnectionRow,
  providerOfIntegration,
  readConnectionWithSecretNames,
  toConnectionRecord,
  validateConnectionConfig,
} from './connection-rows.js';
import type { PreparedTest } from './connection-testing.js';
import { changedTargetFields, credentialsRequiredFor, sendsCredentialFields } from './credential-target.js';
import { resolveCredentials } from './credential-validation.js';

/** Connection operations: create (import), read, list, update with carry-forward, delete. */
export function connectionHandlers(services: Services) {
  const { secrets, catalog } = services;

  const providerOf = (integration: IntegrationTable) => providerOfIntegration(catalog, integration);
  const engine = services.store.engine;
  const loadConnection = (ctx: HandlerContext, integration: IntegrationTable, id: string, lock?: 'lock') =>
    loadConnectionRow(ctx.db, integration, id, lock ? engine : undefined);
  const connectionConfig = (integration: IntegrationTable, config: Record<string, unknown>) => validateConnectionConfig(catalog, integration, config);

  return {
    async create(input: InputOf<typeof CreateConnection>, ctx: HandlerContext) {
      const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
      const provider = providerOf(integration);
      const config = connectionConfig(integration, input.config);
      const creds = resolveCredentials(provider, integration.auth_method as AuthMethod, input.credentials, null);
      const now = ctx.now.toISOString();
      const row: ConnectionTable = {
        uid: newId('con', ctx.now.getTime()),
        tenant_id: ctx.principal.tenantId,
        integration_uid: integration.uid,
        integration_key: integration.key,
        id: input.id,
        provider: integration.provider,
        config: JSON.stringify(config),
        metadata: JSON.stringify(input.metadata),
        labels: JSON.stringify(input.labels),
        enabled: input.enabled ? 1 : 0,
        credential_type: creds.type,
        expires_at: creds.metadata.expiresAt ?? null,
        scopes: creds.metadata.scopes ? JSON.stringify(creds.metadata.scopes) : null,
        token_type: creds.metadata.tokenType ?? null,
        last_refreshed_at: null,
        status: 'active',
        status_reason: null,
        health: null,
        created_at: now,
        updated_at: now,
        created_by: ctx.principal.keyId,
        updated_by: ctx.principal.keyId,
        version: 1,
      };
      try {
        await ctx.db.insertInto('connections').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new LatchkeyError('conflict', `connection "${input.id}" already exists in integration "${integration.key}"`, { reason: 'duplicate_id' });
        if (isForeignKeyViolation(error)) throw new LatchkeyError('not_found', `Integration "${integration.key}" was deleted meanwhile`);
        throw error;
      }
      await secrets.apply(ctx.db, ctx.principal.tenantId, 'connection', row.uid, creds.plan, now);
      ctx.audit.resource = { type: 'connection', id: `${integration.key}/${input.id}` };
      ctx.audit.changes = { fields: ['config', 'metadata', 'labels', 'enabled', 'credentials.type'], secretsChanged: Object.keys(creds.plan.set).sort() };
      const record = toConnectionRecord(row, creds.plan.resulting, catalog, ctx.now);
      await services.webhooks.enqueue(ctx.db, ctx.principal.tenantId, connectionEvent('connection.created', record), ctx.now);
      return record;
    },

    async get(input: InputOf<typeof GetConnection>, ctx: HandlerContext) {
      // The hot read: one statement (connection, its integration's visibility, its secret names).
      const found = await readConnectionWithSecretNames(ctx.db, services.store.engine, ctx.principal, input.key, input.id);
      if (!found) {
        // Not hot: find out which of the two is missing for the message.
        const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
        await loadConnection(ctx, integration, input.id);
        throw new LatchkeyError('not_found', `Connection "${input.id}" was not found`);
      }
      return toConnectionRecord(found.row, found.secretNames, catalog, ctx.now);
    },

    async list(input: InputOf<typeof ListConnections>, ctx: HandlerContext) {
      const cursor = listCursor(ListConnections.meta.key, input, 'string');
      const after = cursor.after;
      let query = ctx.db.selectFrom('connections').selectAll('connections');
      if (input.key !== undefined) {
        const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
        query = query.where('connections.integration_uid', '=', integration.uid);
      } else {
        query = query
          .innerJoin('integrations', 'integrations.uid', 'connections.integration_uid')
          .where('connections.tenant_id', '=', ctx.principal.tenantId)
          .where(visibleIntegrations(ctx.principal));
      }
      if (after !== undefined) query = query.where('connections.uid', '>', after);
      if (input.provider) query = query.where('connections.provider', '=', input.provider);
      if (input.enabled !== undefined) query = query.where('connections.enabled', '=', input.enabled ? 1 : 0);
      const nowIso = ctx.now.toISOString();
      const noRefreshToken = sql<boolean>`not exists (select 1 from secrets s where s.owner_uid = connections.uid and s.field = 'refreshToken')`;
      switch (input.status) {
        case 'disabled':
          query = query.where('connections.enabled', '=', 0);
          break;
        case 'error':
          query = query.where('connections.enabled', '=', 1).where('connections.status', '=', 'error');
          break;
        case 'expired':
          query = query
            .where('connections.enabled', '=', 1)
            .where('connections.status', '!=', 'error')
            .where('connections.expires_at', '<=', nowIso)
            .where(noRefreshToken);
          break;
        case 'active':
          query = query
            .where('connections.enabled', '=', 1)
            .where('connections.status', '!=', 'error')
            .where((eb) => eb.or([eb('connections.expires_at', 'is', null), eb('connections.expires_at', '>', nowIso), eb.not(noRefreshToken)]));
          break;
      }
      const rows = await query.orderBy('connections.uid').limit(input.limit + 1).execute();
      const page = cursor.page(rows, (r) => r.uid);
      const names = await secrets.namesMany(ctx.db, page.rows.map((r) => r.uid));
      return { data: page.rows.map((r) => toConnectionRecord(r, names.get(r.uid) ?? new Set(), catalog, ctx.now)), nextCursor: page.nextCursor };
    },

    async update(input: InputOf<typeof UpdateConnection>, ctx: HandlerContext) {
      const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
      const row = await loadConnection(ctx, integration, input.id, 'lock');
      assertIfMatch(ctx.ifMatch, Number(row.version));
      const verified = ctx.prepared as PreparedTest | undefined;
      // The verified test ran against this version; anything newer was not what was tested.
      if (verified && verified.version !== Number(row.version)) throw concurrentModification();
      const fields: string[] = [];
      const next: ConnectionTable = { ...row };
      if (verified) {
        const { result } = verified;
        next.health = JSON.stringify({ checkedAt: result.checkedAt, ok: result.ok, latencyMs: result.latencyMs, errorCode: result.error?.code ?? null });
      }
      if (input.config !== undefined) next.config = JSON.stringify(connectionConfig(integration, mergeConfig(JSON.parse(row.config), input.config)));
      if (input.metadata !== undefined) next.metadata = JSON.stringify(input.metadata);
      if (input.labels !== undefined) next.labels = JSON.stringify(input.labels);
      if (input.enabled !== undefined) next.enabled = input.enabled ? 1 : 0;
      const stored = await secrets.names(ctx.db, row.uid);
      const retargeted = changedTargetFields(JSON.parse(row.config), JSON.parse(next.config));
      if (retargeted.length > 0 && !sendsCredentialFields(input.credentials) && stored.size > 0) throw credentialsRequiredFor(retargeted);
      let resulting: ReadonlySet<string> = stored;
      let secretsChanged: string[] = [];
      let plan = null;
      if (input.credentials !== undefined) {
        const creds = resolveCredentials(providerOf(integration), integration.auth_method as AuthMethod, input.credentials, {
          type: row.credential_type as CredentialType,
          // A new target gets no stored secrets: everything required must come with the request.
          secretNames: retargeted.length > 0 ? new Set() : stored,
        });
        if (retargeted.length > 0) creds.plan.remove.push(...[...stored].filter((name) => !(name in creds.plan.set)));
        plan = creds.plan;
        resulting = plan.resulting;
        secretsChanged = [...Object.keys(plan.set), ...plan.remove].sort();
        next.credential_type = creds.type;
        if (creds.type !== row.credential_type) {
          next.expires_at = null;
          next.scopes = null;
          next.token_type = null;
        }
        if (creds.metadata.expiresAt !== undefined) next.expires_at = creds.metadata.expiresAt;
        if (creds.metadata.scopes !== undefined) next.scopes = creds.metadata.scopes === null ? null : JSON.stringify(creds.metadata.scopes);
        if (creds.metadata.tokenType !== undefined) next.token_type = creds.metadata.tokenType;
        // New credentials clear a previous error; the next test or refresh re-establishes health.
        if (secretsChanged.length > 0 && row.status === 'error') {
          next.status = 'active';
          next.status_reason = null;
        }
      }
      const columnOf: Record<string, keyof ConnectionTable> = {
        config: 'config',
        metadata: 'metadata',
        labels: 'labels',
        enabled: 'enabled',
        'credentials.type': 'credential_type',
        'credentials.expiresAt': 'expires_at',
        'credentials.scopes': 'scopes',
        'credentials.tokenType': 'token_type',
        status: 'status',
        health: 'health',
      };
      for (const [name, column] of Object.entries(columnOf)) if (next[column] !== row[column]) fields.push(name);
      const now = ctx.now.toISOString();
      next.updated_at = now;
      next.updated_by = ctx.principal.keyId;
      next.version = Number(row.version) + 1;
      const { uid: _uid, tenant_id: _t, integration_uid: _i, created_at: _c, created_by: _cb, ...changes } = next;
      const result = await ctx.db.updateTable('connections').set(changes).where('uid', '=', row.uid).where('version', '=', row.version).executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw concurrentModification();
      if (plan) await secrets.apply(ctx.db, ctx.principal.tenantId, 'connection', row.uid, plan, now);
      ctx.audit.resource = { type: 'connection', id: `${integration.key}/${row.id}` };
      ctx.audit.changes = { fields, secretsChanged };
      const record = toConnectionRecord(next, resulting, catalog, ctx.now);
      // Names of what changed, never values: subscribers read the record through the API.
      const changed = [...fields, ...secretsChanged.map((name) => `credentials.${name}`)];
      await services.webhooks.enqueue(ctx.db, ctx.principal.tenantId, connectionEvent('connection.updated', record, { changed }), ctx.now);
      // New credentials lifted an error: subscribers waiting for the connection to work again hear it.
      if (row.status === 'error' && next.status === 'active') {
        await services.webhooks.enqueue(ctx.db, ctx.principal.tenantId, connectionEvent('connection.recovered', record), ctx.now);
      }
      return record;
    },

    async delete(input: InputOf<typeof DeleteConnection>, ctx: HandlerContext) {
      const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
      const row = await loadConnection(ctx, integration, input.id, 'lock');
      assertIfMatch(ctx.ifMatch, Number(row.version));
      // Row first, then its secrets: the same order as an update, so the two cannot deadlock.
      const deleted = await ctx.db.deleteFrom('connections').where('uid', '=', row.uid).where('version', '=', row.version).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1) throw concurrentModification();
      const secretNames = await secrets.names(ctx.db, row.uid);
      await ctx.db.deleteFrom('secrets').where('owner_uid', '=', row.uid).execute();
      ctx.audit.resource = { type: 'connection', id: `${integration.key}/${row.id}` };
      // The names of the secrets erased with it (never values), as an update records them.
      ctx.audit.changes = { fields: [], secretsChanged: [...secretNames].sort() };
      await services.webhooks.enqueue(ctx.db, ctx.principal.tenantId, connectionEvent('connection.deleted', eventSubjectOf(row, secretNames, ctx.now)), ctx.now);
      return { key: integration.key, id: row.id, deleted: true as const };
    },
  };
}
