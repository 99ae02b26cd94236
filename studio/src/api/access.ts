import { type PolicyKey, ROLES, type Role } from '../../../src/contracts/policies.js';
import type { Latchkey } from '../../../src/surfaces/client/index.js';

/** What the signed-in key may do, as the server reports it; the API decides every call anyway. */
export interface Access {
  role: Role;
  /** Every policy the key holds (role bundle, explicit grants, and those every key holds). */
  policies: PolicyKey[];
  keyId: string | null;
  keyName: string | null;
}

/**
 * Asks the server who the key is (`GET /v1/me`). Every valid key may ask, so signing in
 * no longer tries operations the key might not hold, and leaves no `denied` audit events
 * behind. Throws the problem of an invalid key (401) as is.
 */
export async function probeAccess(lk: Latchkey): Promise<Access> {
  const me = await lk.whoAmI();
  return { role: me.role, policies: me.grants, keyId: me.key.id, keyName: me.key.name };
}

export function parseAccess(text: string | null): Access | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Access;
    return (ROLES as readonly string[]).includes(value.role) && Array.isArray(value.policies) ? value : null;
  } catch {
    return null;
  }
}

export const can = (access: Access, policy: PolicyKey): boolean => access.policies.includes(policy);
