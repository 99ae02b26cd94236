import type { HandlerContext, PrepareContext } from '../../contracts/context.js';
import type { InputOf, OutputOf } from '../../contracts/define.js';
import type { GetKeyStatus, RotateDataKey, RotateRootKey } from '../../contracts/keys/key-contracts.js';
import { LatchkeyError } from '../../errors.js';
import { keyStatus } from '../../keys/key-status.js';
import { RootKeyProviderError } from '../../keys/root-key-provider.js';
import { rotateRootKey } from '../../keys/root-rotation.js';
import type { Services } from '../services.js';

/**
 * The key-management operations. Root key rotation creates the new version in its prepare
 * step (a file write or a Vault call, outside the transaction), then records it and
 * rewraps the data keys in the operation's transaction with its audit event.
 */
export function keyHandlers(services: Services) {
  const { keyring } = services;
  return {
    async status(_input: InputOf<typeof GetKeyStatus>, ctx: HandlerContext): Promise<OutputOf<typeof GetKeyStatus>> {
      const tenantId = ctx.principal.tenantId;
      const status = await keyStatus(ctx.db, keyring, { tenantId });
      const tenant = status.tenants.find((t) => t.tenantId === tenantId) ?? { tenantId, currentVersion: 0, versions: [] };
      const operator = ctx.principal.grants.has('platform.tenant.manage');
      const current = status.rootKeys.find((r) => r.state === 'current');
      return {
        tenantId,
        currentVersion: tenant.currentVersion,
        versions: tenant.versions,
        rootKey: operator ? { provider: keyring.provider.kind, currentKeyId: current?.id ?? keyring.rootKeyId, versions: status.rootKeys } : null,
        reencryption: operator ? status.reencryption : null,
      };
    },

    async rotateDataKey(_input: InputOf<typeof RotateDataKey>, ctx: HandlerContext): Promise<OutputOf<typeof RotateDataKey>> {
      const tenantId = ctx.principal.tenantId;
      const before = await ctx.db
        .selectFrom('data_keys')
        .select('version')
        .where('tenant_id', '=', tenantId)
        .where('superseded_at', 'is', null)
        .where('retired_at', 'is', null)
        .orderBy('version', 'desc')
        .executeTakeFirst();
      const version = await keyring.rotateTenantKey(ctx.db, tenantId, ctx.now.toISOString());
      ctx.audit.resource = { type: 'data_key', id: `${tenantId}:v${version}` };
      ctx.audit.changes = { fields: ['dataKeyVersion'], secretsChanged: [] };
      ctx.afterCommit(() => keyring.forget(tenantId));
      return { tenantId, version, previousVersion: before ? Number(before.version) : null };
    },

    async prepareRootRotation(_input: InputOf<typeof RotateRootKey>, ctx: PrepareContext): Promise<{ keyId: string }> {
      try {
        return { keyId: await keyring.provider.createVersion(await keyring.currentRootKeyId(ctx.db)) };
      } catch (error) {
        // e.g. keys given only in LATCHKEY_ROOT_KEY: the operator has to add the new version.
        if (error instanceof RootKeyProviderError) throw new LatchkeyError('conflict', error.message, { reason: 'root_key_unavailable' });
        throw error;
      }
    },

    async rotateRootKey(_input: InputOf<typeof RotateRootKey>, ctx: HandlerContext): Promise<OutputOf<typeof RotateRootKey>> {
      const { keyId } = ctx.prepared as { keyId: string };
      if (keyId === (await keyring.currentRootKeyId(ctx.db))) {
        throw new LatchkeyError('conflict', `root key ${keyId} is already current (a concurrent rotation made it so)`, { reason: 'root_key_current' });
      }
      const rotation = await rotateRootKey(ctx.db, keyring, { now: ctx.now, newKeyId: keyId });
      ctx.audit.resource = { type: 'root_key', id: rotation.keyId };
      ctx.audit.changes = { fields: ['rootKeyId'], secretsChanged: [] };
      ctx.afterCommit(() => keyring.useRootKey(rotation.keyId));
      return rotation;
    },
  };
}
