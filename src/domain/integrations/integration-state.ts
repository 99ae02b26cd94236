import type { Principal } from '../../contracts/context.js';
import { LatchkeyError, fieldError } from '../../errors.js';
import type { AuthMethod, ProviderDefinition } from '../../providers/provider-schema.js';
import { type SecretPlan, carryForwardSecrets } from '../carry-forward.js';
import { assertRequiredSecrets, parametersFor, validateConfig, validateSecretChanges } from '../parameter-validation.js';

/** The desired non-secret state of an integration, before validation. */
export interface DesiredIntegration {
  authMethod: AuthMethod | undefined;
  scope: 'global' | 'workspace' | 'user';
  workspaceId: string | null | undefined;
  ownerUserId: string | null | undefined;
  config: Record<string, unknown>;
  secrets: Record<string, string | null> | undefined;
}

export interface ResolvedIntegration {
  authMethod: AuthMethod;
  scope: 'global' | 'workspace' | 'user';
  workspaceId: string | null;
  ownerUserId: string | null;
  config: Record<string, unknown>;
  plan: SecretPlan;
  /** Stored secret names that no longer apply (auth method changed) and are removed. */
  dropped: string[];
}

/**
 * Scope rules: `user` needs `ownerUserId`; `workspace` defaults to the caller's
 * workspace; a workspace-restricted key can only place records in its own workspace.
 */
function resolveScope(desired: DesiredIntegration, principal: Principal) {
  const { scope } = desired;
  let workspaceId = desired.workspaceId ?? null;
  let ownerUserId = desired.ownerUserId ?? null;
  if (scope === 'global') {
    if (workspaceId) throw fieldError('workspaceId', 'must be empty when scope=global');
    if (ownerUserId) throw fieldError('ownerUserId', 'must be empty when scope=global');
    if (principal.workspaceId) throw new LatchkeyError('forbidden', 'a workspace-restricted key cannot manage global integrations');
  }
  if (scope === 'workspace') {
    workspaceId ??= principal.workspaceId;
    if (!workspaceId) throw fieldError('workspaceId', 'is required when scope=workspace (the key has no workspace of its own)');
    if (ownerUserId) throw fieldError('ownerUserId', 'must be empty when scope=workspace');
  }
  if (scope === 'user') {
    if (!ownerUserId) throw fieldError('ownerUserId', 'is required when scope=user');
    // Default only when not given: a stored null (PATCH carries it) must not silently move the record into the caller's workspace.
    if (desired.workspaceId === undefined) workspaceId = principal.workspaceId;
    if (principal.userId && ownerUserId !== principal.userId) throw new LatchkeyError('forbidden', 'a key bound to a user can only own its own user-scoped integrations');
  }
  if (principal.workspaceId && workspaceId !== principal.workspaceId) {
    throw new LatchkeyError('forbidden', 'a workspace-restricted key can only manage its own workspace');
  }
  return { scope, workspaceId, ownerUserId };
}

/**
 * Validates a desired integration against its provider and computes the secret plan
 * (carry-forward from what is stored). Collects config problems into one 422.
 */
export function resolveIntegration(
  provider: ProviderDefinition,
  desired: DesiredIntegration,
  principal: Principal,
  storedSecrets: ReadonlySet<string>,
): ResolvedIntegration {
  const authMethod = desired.authMethod ?? provider.authMethods[0]!;
  if (!provider.authMethods.includes(authMethod)) {
    throw fieldError('authMethod', `must be one of ${provider.authMethods.join(', ')} for provider ${provider.key}`);
  }
  const scope = resolveScope(desired, principal);
  const params = parametersFor(provider.parameters, 'integration', authMethod);
  const config = validateConfig(params, desired.config, 'config');
  const secretParams = params.filter((p) => p.secret);
  const declared = new Map(secretParams.map((p) => [p.name, { pattern: p.pattern }]));
  const changes = validateSecretChanges(declared, desired.secrets, 'secrets');
  const dropped = [...storedSecrets].filter((name) => !declared.has(name));
  const kept = new Set([...storedSecrets].filter((name) => declared.has(name)));
  const plan = carryForwardSecrets(kept, changes);
  plan.remove.push(...dropped);
  assertRequiredSecrets(secretParams.filter((p) => p.required).map((p) => p.name), plan.resulting, 'secrets');
  return { authMethod, ...scope, config, plan, dropped };
}
