import { type PolicyKey, ROLES, type Role, rolePolicies } from '../../../src/contracts/policies.js';
import { type Latchkey, LatchkeyProblem } from '../../../src/surfaces/client/index.js';

/** What the signed-in key may do, as far as the Studio can tell; the API decides anyway. */
export interface Access {
  role: Role;
  policies: PolicyKey[];
  /** Id of the signed-in key, when the key may list keys (admins). */
  keyId: string | null;
  keyName: string | null;
}

/** The probe's answer, or null when the key is not allowed (403); anything else throws. */
const allowed = async <T>(probe: Promise<T>): Promise<T | null> => {
  try {
    return await probe;
  } catch (error) {
    if (error instanceof LatchkeyProblem && error.status === 403) return null;
    throw error;
  }
};

/**
 * Finds out what a key may do. There is no "who am I" operation, so this asks the cheapest
 * questions in order: a key that may list API keys finds its own record (role and explicit
 * grants); any other key is classified by which read operations answer. Throws the
 * problem of an invalid key (401) as is.
 */
export async function probeAccess(lk: Latchkey, apiKey: string): Promise<Access> {
  const page = await allowed(lk.listApiKeys({ limit: 200 }));
  if (page) {
    const own = page.data.find((k) => !k.revokedAt && apiKey.startsWith(k.prefix));
    const role = own?.role ?? 'admin';
    return {
      role,
      policies: [...new Set<PolicyKey>([...rolePolicies(role), ...(own?.policies ?? [])])],
      keyId: own?.id ?? null,
      keyName: own?.name ?? null,
    };
  }
  const [integrations, audit] = (await Promise.all([allowed(lk.listIntegrations({ limit: 1 })), allowed(lk.listAuditEvents({ limit: 1 }))])).map((r) => r !== null);
  const role: Role = integrations ? (audit ? 'viewer' : 'operator') : audit ? 'viewer' : 'runtime';
  return { role, policies: [...rolePolicies(role)], keyId: null, keyName: null };
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
