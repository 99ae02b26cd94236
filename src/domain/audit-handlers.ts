import { chainedFieldsOf } from '../audit/audit-log.js';
import { chainVerifier } from '../audit/hash-chain.js';
import { ListAuditEvents, type VerifyAuditChain } from '../contracts/audit/audit-contracts.js';
import type { HandlerContext } from '../contracts/context.js';
import type { InputOf, OutputOf } from '../contracts/define.js';
import { LatchkeyError } from '../errors.js';
import type { Engine } from '../store/database.js';
import { listCursor } from './cursor.js';

const VERIFY_BATCH = 1000;

/** Reading and verifying the tenant's audit trail. */
export function auditHandlers(chainKey: Buffer, engine: Engine) {
  return {
    async list(input: InputOf<typeof ListAuditEvents>, ctx: HandlerContext) {
      const cursor = listCursor(ListAuditEvents.meta.key, input, 'number');
      const before = cursor.after;
      let query = ctx.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', ctx.principal.tenantId);
      if (before !== undefined) query = query.where('seq', '<', before);
      // A key bound to a workspace or user sees what keys bound the same way did, not the
      // whole tenant's trail (resource ids there are other workspaces' end-user ids).
      const { workspaceId, userId } = ctx.principal;
      if (workspaceId || userId) {
        let peers = ctx.db.selectFrom('api_keys').select('id').where('tenant_id', '=', ctx.principal.tenantId);
        if (workspaceId) peers = peers.where('workspace_id', '=', workspaceId);
        if (userId) peers = peers.where('user_id', '=', userId);
        query = query.where('actor_key_id', 'in', peers);
      }
      if (input.action) query = query.where('action', '=', input.action);
      if (input.actorKeyId) query = query.where('actor_key_id', '=', input.actorKeyId);
      if (input.resourceType) query = query.where('resource_type', '=', input.resourceType);
      if (input.resourceId) query = query.where('resource_id', '=', input.resourceId);
      if (input.outcome) query = query.where('outcome', '=', input.outcome);
      if (input.since) query = query.where('at', '>=', new Date(input.since).toISOString());
      if (input.until) query = query.where('at', '<', new Date(input.until).toISOString());
      const rows = await query.orderBy('seq', 'desc').limit(input.limit + 1).execute();
      const page = cursor.page(rows, (r) => Number(r.seq));
      return {
        // The output schema re-checks every field's shape before anything leaves.
        data: page.rows.map((row) => {
          const { tenantId: _t, ...event } = chainedFieldsOf(row);
          return event as OutputOf<typeof ListAuditEvents>['data'][number];
        }),
        nextCursor: page.nextCursor,
      };
    },

    async verify(_input: InputOf<typeof VerifyAuditChain>, ctx: HandlerContext) {
      const tenantId = ctx.principal.tenantId;
      if (ctx.principal.workspaceId || ctx.principal.userId) {
        throw new LatchkeyError('forbidden', 'verifying the tenant\'s whole audit chain needs a key not bound to a workspace or user');
      }
      // Hold the chain head as writers do, so no event is appended while the chain is read
      // and anything beyond the head is tampering, not a concurrent write.
      let headQuery = ctx.db.selectFrom('tenants').select(['audit_seq', 'audit_head']).where('id', '=', tenantId);
      if (engine === 'postgres') headQuery = headQuery.forNoKeyUpdate();
      const head = await headQuery.executeTakeFirstOrThrow();
      const last = Number(head.audit_seq);
      const verifier = chainVerifier(chainKey);
      let result: ReturnType<typeof verifier.end> | null = null;
      for (let after = 0; result === null; ) {
        const rows = await ctx.db
          .selectFrom('audit_events')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('seq', '>', after)
          .orderBy('seq')
          .limit(VERIFY_BATCH)
          .execute();
        for (const row of rows) {
          result = verifier.next(chainedFieldsOf(row));
          if (result) break;
        }
        if (result === null && rows.length < VERIFY_BATCH) result = verifier.end({ seq: last, hash: head.audit_head });
        after = rows.length > 0 ? Number(rows[rows.length - 1]!.seq) : after;
      }
      ctx.audit.resource = { type: 'audit_chain', id: tenantId };
      return result;
    },
  };
}
