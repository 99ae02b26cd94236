import type { z } from 'zod';
import type { ApiKeyRecord } from '../../contracts/access/access-contracts.js';
import { type CreateApiKey, type CreateTenant, ListApiKeys, ListTenants, type RevokeApiKey } from '../../contracts/access/access-contracts.js';
import type { HandlerContext } from '../../contracts/context.js';
import type { InputOf } from '../../contracts/define.js';
import { type GrantablePolicyKey, type PolicyKey, type Role, grantsOf } from '../../contracts/policies.js';
import { generateApiKey, hashApiKey } from '../../crypto/api-key-token.js';
import { LatchkeyError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import type { ApiKeyTable } from '../../store/schema.js';
import { listCursor } from '../cursor.js';
import type { Services } from '../services.js';
import { createTenantWithAdmin } from './tenant-bootstrap.js';

export function toApiKeyRecord(row: ApiKeyTable): z.input<typeof ApiKeyRecord> {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    policies: JSON.parse(row.policies) as GrantablePolicyKey[],
    userId: row.user_id,
    workspaceId: row.workspace_id,
    prefix: row.key_prefix,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/** Policies only the operator tenant may hold or hand out. */
const PLATFORM_ONLY: readonly PolicyKey[] = ['platform.tenant.manage'];

/** API keys and tenants. */
export function accessHandlers(services: Services, onKeyRevoked: (keyId: string) => void) {
  return {
    async createApiKey(input: InputOf<typeof CreateApiKey>, ctx: HandlerContext) {
      const { principal } = ctx;
      for (const granted of input.policies) {
        if (PLATFORM_ONLY.includes(granted) && !principal.isPlatformTenant) {
          throw new LatchkeyError('forbidden', `${granted} can only be granted within the operator tenant`);
        }
      }
      // No escalation: a new key holds nothing its creator does not, except the reveal
      // grant, which no role carries and which access managers hand out explicitly (audited).
      const wanted = grantsOf(input.role, input.policies, principal.isPlatformTenant && input.role === 'admin');
      const beyond = [...wanted].filter((p) => p !== 'platform.credential.reveal' && !principal.grants.has(p));
      if (beyond.length > 0) throw new LatchkeyError('forbidden', `a key cannot grant what it does not hold: ${beyond.join(', ')}`);
      if (principal.workspaceId && input.workspaceId !== principal.workspaceId) {
        throw new LatchkeyError('forbidden', 'a workspace-restricted key can only create keys for its own workspace');
      }
      if (principal.userId && input.userId !== principal.userId) {
        throw new LatchkeyError('forbidden', 'a key bound to a user can only create keys bound to the same user');
      }
      if (input.expiresAt && Date.parse(input.expiresAt) <= ctx.now.getTime()) {
        throw new LatchkeyError('validation_failed', 'expiresAt is in the past', { errors: [{ path: 'expiresAt', message: 'must be in the future' }] });
      }
      const key = generateApiKey();
      const { lookup, hash } = hashApiKey(key);
      const row: ApiKeyTable = {
        id: newId('key', ctx.now.getTime()),
        tenant_id: principal.tenantId,
        name: input.name,
        role: input.role,
        policies: JSON.stringify([...new Set(input.policies)].sort()),
        user_id: input.userId ?? null,
        workspace_id: input.workspaceId ?? null,
        key_lookup: lookup,
        key_hash: hash,
        key_prefix: key.slice(0, 8),
        created_at: ctx.now.toISOString(),
        created_by: principal.keyId,
        revoked_at: null,
        expires_at: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      };
      await ctx.db.insertInto('api_keys').values(row).execute();
      ctx.audit.resource = { type: 'api_key', id: row.id };
      ctx.audit.changes = { fields: ['name', 'role', 'policies', 'userId', 'workspaceId', 'expiresAt'], secretsChanged: [] };
      return { apiKey: toApiKeyRecord(row), key };
    },

    async listApiKeys(input: InputOf<typeof ListApiKeys>, ctx: HandlerContext) {
      const cursor = listCursor(ListApiKeys.meta.key, input, 'string');
      const after = cursor.after;
      let query = ctx.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', ctx.principal.tenantId);
      if (after !== undefined) query = query.where('id', '>', after);
      if (!input.includeRevoked) query = query.where('revoked_at', 'is', null);
      // A key bound to a workspace or a user manages only the keys bound the same way.
      if (ctx.principal.workspaceId) query = query.where('workspace_id', '=', ctx.principal.workspaceId);
      if (ctx.principal.userId) query = query.where('user_id', '=', ctx.principal.userId);
      const rows = await query.orderBy('id').limit(input.limit + 1).execute();
      const page = cursor.page(rows, (r) => r.id);
      return { data: page.rows.map(toApiKeyRecord), nextCursor: page.nextCursor };
    },

    async revokeApiKey(input: InputOf<typeof RevokeApiKey>, ctx: HandlerContext) {
      const row = await ctx.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', ctx.principal.tenantId).where('id', '=', input.id).executeTakeFirst();
      const outside = (ctx.principal.workspaceId && row?.workspace_id !== ctx.principal.workspaceId) || (ctx.principal.userId && row?.user_id !== ctx.principal.userId);
      if (!row || outside) throw notFound(`API key "${input.id}"`);
      if (row.id === ctx.principal.keyId) throw new LatchkeyError('conflict', 'a key cannot revoke itself; use another admin key', { reason: 'self_revoke' });
      const revokedAt = row.revoked_at ?? ctx.now.toISOString();
      if (!row.revoked_at) await ctx.db.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', row.id).execute();
      // Evict after commit: evicting earlier lets a concurrent request re-cache the key as valid.
      ctx.afterCommit(() => onKeyRevoked(row.id));
      ctx.audit.resource = { type: 'api_key', id: row.id };
      ctx.audit.changes = { fields: row.revoked_at ? [] : ['revokedAt'], secretsChanged: [] };
      return toApiKeyRecord({ ...row, revoked_at: revokedAt });
    },

    async createTenant(input: InputOf<typeof CreateTenant>, ctx: HandlerContext) {
      const created = await createTenantWithAdmin(ctx.db, services.keyring, { name: input.name, isPlatform: false, now: ctx.now, createdBy: ctx.principal.keyId });
      ctx.audit.resource = { type: 'tenant', id: created.tenant.id };
      ctx.audit.changes = { fields: ['name'], secretsChanged: [] };
      return { tenant: created.tenant, adminKey: created.adminKey };
    },

    async listTenants(input: InputOf<typeof ListTenants>, ctx: HandlerContext) {
      const cursor = listCursor(ListTenants.meta.key, input, 'string');
      const after = cursor.after;
      let query = ctx.db.selectFrom('tenants').select(['id', 'name', 'created_at']);
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query.orderBy('id').limit(input.limit + 1).execute();
      const page = cursor.page(rows, (r) => r.id);
      return { data: page.rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at })), nextCursor: page.nextCursor };
    },
  };
}
