import type { Kysely } from 'kysely';
import { GENESIS_HASH } from '../../audit/hash-chain.js';
import { generateApiKey, hashApiKey } from '../../crypto/api-key-token.js';
import type { Keyring } from '../../crypto/keyring.js';
import { newId } from '../../ids.js';
import type { Database } from '../../store/schema.js';

export interface NewTenant {
  tenant: { id: string; name: string; createdAt: string };
  adminKey: string;
  adminKeyId: string;
}

/**
 * Creates a tenant with its data key and first admin key, in the caller's transaction.
 * The key is returned once and only its hash is stored.
 */
export async function createTenantWithAdmin(
  db: Kysely<Database>,
  keyring: Keyring,
  opts: { name: string; isPlatform: boolean; now: Date; createdBy: string | null; adminKey?: string; tenantId?: string },
): Promise<NewTenant> {
  const now = opts.now.toISOString();
  const id = opts.tenantId ?? newId('ten', opts.now.getTime());
  await db.insertInto('tenants').values({ id, name: opts.name, is_platform: opts.isPlatform ? 1 : 0, audit_seq: 0, audit_head: GENESIS_HASH, created_at: now }).execute();
  await keyring.ensureTenantKey(db, id, now);
  const adminKey = opts.adminKey ?? generateApiKey();
  const { lookup, hash } = hashApiKey(adminKey);
  const adminKeyId = newId('key', opts.now.getTime());
  await db
    .insertInto('api_keys')
    .values({
      id: adminKeyId,
      tenant_id: id,
      name: 'first admin key',
      role: 'admin',
      policies: '[]',
      user_id: null,
      workspace_id: null,
      key_lookup: lookup,
      key_hash: hash,
      key_prefix: adminKey.slice(0, 8),
      created_at: now,
      created_by: opts.createdBy,
      revoked_at: null,
      expires_at: null,
    })
    .execute();
  return { tenant: { id, name: opts.name, createdAt: now }, adminKey, adminKeyId };
}
