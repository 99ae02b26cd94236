/**
 * Policy keys and the roles that bundle them. Authorization is deny-by-default: a
 * principal may run an operation only when it holds every policy its contract names.
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
export type PolicyKey = (typeof POLICY_KEYS)[number];

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

/** Every policy a key holds: its role's bundle, its explicit grants, and tenant.manage for platform admins. */
export function grantsOf(role: Role, explicit: readonly PolicyKey[], isPlatformTenant: boolean): Set<PolicyKey> {
  const grants = new Set<PolicyKey>(ROLE_POLICIES[role]);
  for (const key of explicit) grants.add(key);
  if (role === 'admin' && isPlatformTenant) grants.add('platform.tenant.manage');
  return grants;
}

export const rolePolicies = (role: Role): readonly PolicyKey[] => ROLE_POLICIES[role];

export const policy = (key: PolicyKey, version = '1.0.0'): PolicyRef => ({ key, version });
