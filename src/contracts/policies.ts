/**
 * Policy keys and the roles that bundle them. Authorization is deny-by-default: a
 * principal may run an operation only when it holds every policy its contract names.
 * These are the policies a key can be granted (a role's bundle or explicit grants).
 */
export const POLICY_KEYS = [
  'platform.integration.read',
  'platform.integration.manage',
  'platform.connection.read',
  'platform.connection.manage',
  'platform.connection.use',
  'platform.credential.reveal',
  'platform.access.manage',
  'platform.audit.read',
  'platform.tenant.manage',
  'platform.webhook.manage',
] as const;

/**
 * Policies every valid key holds, whatever its role: they guard operations about the
 * caller itself (`access.principal.whoami`). They keep the registry's rule that every
 * contract names a policy, without a special case for "any key": a contract still says
 * what it needs, and the check stays one set lookup. Never granted explicitly.
 */
export const EVERY_KEY_POLICIES = ['platform.self.read'] as const;

/** A policy a key can be granted: by its role or explicitly. */
export type GrantablePolicyKey = (typeof POLICY_KEYS)[number];
export type PolicyKey = GrantablePolicyKey | (typeof EVERY_KEY_POLICIES)[number];

/** Every policy key there is: the grantable ones and those every key holds. */
export const ALL_POLICY_KEYS = [...POLICY_KEYS, ...EVERY_KEY_POLICIES] as const;

/** A reference to a policy at a version; a grant satisfies it when the majors match. */
export interface PolicyRef {
  key: PolicyKey;
  version: string;
}

export const ROLES = ['admin', 'operator', 'runtime', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What each role holds. `platform.credential.reveal` is in none of them on purpose: it is
 * only ever granted explicitly. `platform.tenant.manage` is added to `admin` keys of the
 * operator (platform) tenant only, see `grantsOf`.
 */
const ROLE_POLICIES: Record<Role, readonly PolicyKey[]> = {
  admin: [
    'platform.integration.read',
    'platform.integration.manage',
    'platform.connection.read',
    'platform.connection.manage',
    'platform.connection.use',
    'platform.access.manage',
    'platform.audit.read',
    'platform.webhook.manage',
  ],
  operator: [
    'platform.integration.read',
    'platform.integration.manage',
    'platform.connection.read',
    'platform.connection.manage',
    // Webhook endpoints are operational wiring like integrations; one key covers reading and managing them.
    'platform.webhook.manage',
  ],
  runtime: ['platform.connection.read', 'platform.connection.use'],
  viewer: ['platform.integration.read', 'platform.connection.read', 'platform.audit.read'],
};

/**
 * Every policy a key holds: its role's bundle, its explicit grants, the policies every key
 * holds, and tenant.manage for platform admins.
 */
export function grantsOf(role: Role, explicit: readonly PolicyKey[], isPlatformTenant: boolean): Set<PolicyKey> {
  const grants = new Set<PolicyKey>([...ROLE_POLICIES[role], ...EVERY_KEY_POLICIES]);
  for (const key of explicit) grants.add(key);
  if (role === 'admin' && isPlatformTenant) grants.add('platform.tenant.manage');
  return grants;
}

export const rolePolicies = (role: Role): readonly PolicyKey[] => ROLE_POLICIES[role];

export const policy = (key: PolicyKey, version = '1.0.0'): PolicyRef => ({ key, version });
