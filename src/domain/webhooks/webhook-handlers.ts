import type { HandlerContext } from '../../contracts/context.js';
import type { InputOf } from '../../contracts/define.js';
import { type CreateWebhookEndpoint, type DeleteWebhookEndpoint, type GetWebhookEndpoint, ListWebhookDeliveries, ListWebhookEndpoints, type UpdateWebhookEndpoint } from '../../contracts/webhooks/webhook-contracts.js';
import { fieldError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { WebhookEndpointTable } from '../../store/schema.js';
import { refusedDestination } from '../../webhooks/endpoint-url.js';
import { newSigningSecret } from '../../webhooks/signing-secret.js';
import { listCursor } from '../cursor.js';
import type { Services } from '../services.js';
import { assertIfMatch, concurrentModification } from '../versioning.js';
import { assertTenantWide, loadEndpoint, toDeliveryRecord, toEndpointRecord } from './webhook-rows.js';

/** The secret field of an endpoint in the secret store. */
const SIGNING_SECRET = 'signingSecret';

/**
 * Webhook endpoints (create with a once-shown signing secret, read, list, update, delete)
 * and their deliveries. One policy, `platform.webhook.manage`, covers all of them.
 */
export function webhookHandlers(services: Services) {
  const { secrets, guard } = services;
  const engine = services.store.engine;

  /** 422 on `url` for a destination the outbound guard would refuse anyway. */
  const checkDestination = (url: string) => {
    const refused = refusedDestination(url, guard);
    if (refused) throw fieldError('url', refused);
  };

  return {
    async create(input: InputOf<typeof CreateWebhookEndpoint>, ctx: HandlerContext) {
      assertTenantWide(ctx.principal);
      checkDestination(input.url);
      const now = ctx.now.toISOString();
      const row: WebhookEndpointTable = {
        uid: newId('whk', ctx.now.getTime()),
        tenant_id: ctx.principal.tenantId,
        url: input.url,
        events: JSON.stringify(input.events),
        description: input.description ?? null,
        enabled: input.enabled ? 1 : 0,
        created_at: now,
        updated_at: now,
        created_by: ctx.principal.keyId,
        updated_by: ctx.principal.keyId,
        version: 1,
      };
      await ctx.db.insertInto('webhook_endpoints').values(row).execute();
      const secret = newSigningSecret();
      await secrets.apply(ctx.db, ctx.principal.tenantId, 'webhook', row.uid, { set: { [SIGNING_SECRET]: secret }, remove: [], resulting: new Set([SIGNING_SECRET]) }, now);
      ctx.audit.resource = { type: 'webhook_endpoint', id: row.uid };
      ctx.audit.changes = { fields: ['url', 'events', 'description', 'enabled'], secretsChanged: [SIGNING_SECRET] };
      return { ...toEndpointRecord(row), secret };
    },

    async list(input: InputOf<typeof ListWebhookEndpoints>, ctx: HandlerContext) {
      assertTenantWide(ctx.principal);
      const cursor = listCursor(ListWebhookEndpoints.meta.key, input, 'string');
      const after = cursor.after;
      let query = ctx.db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', ctx.principal.tenantId);
      if (after !== undefined) query = query.where('uid', '>', after);
      const rows = await query.orderBy('uid').limit(input.limit + 1).execute();
      const page = cursor.page(rows, (r) => r.uid);
      return { data: page.rows.map(toEndpointRecord), nextCursor: page.nextCursor };
    },

    async get(input: InputOf<typeof GetWebhookEndpoint>, ctx: HandlerContext) {
      assertTenantWide(ctx.principal);
      return toEndpointRecord(await loadEndpoint(ctx.db, ctx.principal, input.id));
    },

    async update(input: InputOf<typeof UpdateWebhookEndpoint>, ctx: HandlerContext) {
      assertTenantWide(ctx.principal);
      const row = await loadEndpoint(ctx.db, ctx.principal, input.id, { engine, for: 'update' });
      assertIfMatch(ctx.ifMatch, Number(row.version));
      const next: WebhookEndpointTable = { ...row };
      if (input.url !== undefined) {
        checkDestination(input.url);
        next.url = input.url;
      }
      if (input.events !== undefined) next.events = JSON.stringify(input.events);
      if (input.description !== undefined) next.description = input.description;
      if (input.enabled !== undefined) next.enabled = input.enabled ? 1 : 0;
      const fields = (['url', 'events', 'description', 'enabled'] as const).filter((f) => next[f] !== row[f]);
      next.updated_at = ctx.now.toISOString();
      next.updated_by = ctx.principal.keyId;
      next.version = Number(row.version) + 1;
      const { uid: _uid, tenant_id: _t, created_at: _c, created_by: _cb, ...changes } = next;
      const result = await ctx.db.updateTable('webhook_endpoints').set(changes).where('uid', '=', row.uid).where('version', '=', row.version).executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw concurrentModification();
      ctx.audit.resource = { type: 'webhook_endpoint', id: row.uid };
      ctx.audit.changes = { fields: [...fields], secretsChanged: [] };
      return toEndpointRecord(next);
    },

    async delete(input: InputOf<typeof DeleteWebhookEndpoint>, ctx: HandlerContext) {
      assertTenantWide(ctx.principal);
      const row = await loadEndpoint(ctx.db, ctx.principal, input.id, { engine, for: 'delete' });
      assertIfMatch(ctx.ifMatch, Number(row.version));
      await ctx.db.deleteFrom('webhook_deliveries').where('endpoint_uid', '=', row.uid).execute();
      const deleted = await ctx.db.deleteFrom('webhook_endpoints').where('uid', '=', row.uid).where('version', '=', row.version).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1) throw concurrentModification();
      await secrets.removeAll(ctx.db, [row.uid]);
      ctx.audit.resource = { type: 'webhook_endpoint', id: row.uid };
      ctx.audit.changes = { fields: [], secretsChanged: [SIGNING_SECRET] };
      return { id: row.uid, deleted: true as const };
    },

    async deliveries(input: InputOf<typeof ListWebhookDeliveries>, ctx: HandlerContext) {
      assertTenantWide(ctx.principal);
      const endpoint = await loadEndpoint(ctx.db, ctx.principal, input.id);
      const cursor = listCursor(ListWebhookDeliveries.meta.key, input, 'string');
      const before = cursor.after;
      let query = ctx.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_uid', '=', endpoint.uid);
      if (before !== undefined) query = query.where('id', '<', before);
      if (input.status) query = query.where('status', '=', input.status);
      const rows = await query.orderBy('id', 'desc').limit(input.limit + 1).execute();
      const page = cursor.page(rows, (r) => r.id);
      return { data: page.rows.map(toDeliveryRecord), nextCursor: page.nextCursor };
    },
  };
}
