import type { z } from 'zod';
import type { PrincipalRecord, WhoAmI } from '../../contracts/access/principal-contract.js';
import type { HandlerContext } from '../../contracts/context.js';
import type { InputOf } from '../../contracts/define.js';
import type { GrantablePolicyKey } from '../../contracts/policies.js';
import { LatchkeyError } from '../../errors.js';

/**
 * `access.principal.whoami`: the caller's own key and tenant rows, and the grants the
 * authenticator resolved (the ones every check of this request used). A key revoked or
 * expired since the authenticator cached it answers 401, as its next call would.
 *
 * @example
 * ```ts
 * registry.bind(WhoAmI, whoAmIHandler);
 * ```
 */
export async function whoAmIHandler(_input: InputOf<typeof WhoAmI>, ctx: HandlerContext): Promise<z.input<typeof PrincipalRecord>> {
  const { principal } = ctx;
  const row = await ctx.db
    .selectFrom('api_keys')
    .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
    .select([
      'api_keys.id',
      'api_keys.name',
      'api_keys.key_prefix',
      'api_keys.created_at',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.policies',
      'tenants.id as tenant_id',
      'tenants.name as tenant_name',
      'tenants.is_platform',
    ])
    .where('api_keys.id', '=', principal.keyId)
    .where('api_keys.tenant_id', '=', principal.tenantId)
    .executeTakeFirst();
  const expired = row?.expires_at ? Date.parse(row.expires_at) <= ctx.now.getTime() : false;
  if (!row || row.revoked_at !== null || expired) throw new LatchkeyError('unauthenticated', 'the API key is not valid');
  return {
    key: { id: row.id, name: row.name, prefix: row.key_prefix, createdAt: row.created_at, expiresAt: row.expires_at },
    tenant: { id: row.tenant_id, name: row.tenant_name, isPlatform: row.is_platform === 1 },
    role: principal.role,
    userId: principal.userId,
    workspaceId: principal.workspaceId,
    policies: JSON.parse(row.policies) as GrantablePolicyKey[],
    grants: [...principal.grants].sort(),
  };
}
