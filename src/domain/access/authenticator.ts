import type { Principal } from '../../contracts/context.js';
import { type PolicyKey, type Role, ROLES, grantsOf } from '../../contracts/policies.js';
import { MIN_API_KEY_LENGTH, apiKeyMatches, hashApiKey } from '../../crypto/api-key-token.js';
import type { Store } from '../../store/database.js';

interface CacheEntry {
  principal: Principal;
  keyExpiresAt: number | null;
  cachedUntil: number;
}

/**
 * Resolves a presented API key to a principal. Keys are found by a hash prefix and
 * confirmed by a constant-time comparison of the full hash. Verified keys are cached for
 * a few seconds (by hash, never by the key) so hot paths do not pay a query per request;
 * a revocation in this process takes effect at once, in other instances within the TTL.
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 5_000,
    private readonly clock: () => number = Date.now,
  ) {}

  async authenticate(token: string): Promise<Principal | null> {
    if (token.length < MIN_API_KEY_LENGTH || token.length > 512) return null;
    const { lookup, hash } = hashApiKey(token);
    const now = this.clock();
    const cached = this.cache.get(hash);
    if (cached && cached.cachedUntil > now && (cached.keyExpiresAt === null || cached.keyExpiresAt > now)) return cached.principal;
    this.cache.delete(hash);

    const rows = await this.store.db
      .selectFrom('api_keys')
      .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
      .select([
        'api_keys.id',
        'api_keys.tenant_id',
        'api_keys.role',
        'api_keys.policies',
        'api_keys.user_id',
        'api_keys.workspace_id',
        'api_keys.key_hash',
        'api_keys.revoked_at',
        'api_keys.expires_at',
        'tenants.is_platform',
      ])
      .where('api_keys.key_lookup', '=', lookup)
      .execute();
    const row = rows.find((r) => apiKeyMatches(token, r.key_hash));
    if (!row || row.revoked_at !== null) return null;
    const keyExpiresAt = row.expires_at ? Date.parse(row.expires_at) : null;
    if (keyExpiresAt !== null && keyExpiresAt <= now) return null;
    // Deny by default: a role this version does not know (a newer version's, or a tampered
    // row) grants nothing, rather than falling back to some role's permissions.
    if (!(ROLES as readonly string[]).includes(row.role)) return null;
    const role = row.role as Role;
    const principal: Principal = {
      tenantId: row.tenant_id,
      keyId: row.id,
      role,
      grants: grantsOf(role, JSON.parse(row.policies) as PolicyKey[], row.is_platform === 1),
      userId: row.user_id,
      workspaceId: row.workspace_id,
      isPlatformTenant: row.is_platform === 1,
    };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, keyExpiresAt, cachedUntil: now + this.ttlMs });
    return principal;
  }

  /** Drops a revoked key from this process's cache at once. */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.principal.keyId === keyId) this.cache.delete(hash);
  }
}
