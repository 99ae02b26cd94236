import { type FieldError, LatchkeyError } from '../../errors.js';
import type { AuthMethod, CredentialType, ProviderDefinition } from '../../providers/provider-schema.js';
import { type SecretPlan, carryForwardSecrets } from '../carry-forward.js';
import { allowedCredentialTypes, credentialFields } from '../credential-fields.js';
import { assertRequiredSecrets, validateSecretChanges } from '../parameter-validation.js';

/** Token metadata that lives in plain columns, not in the secret store. */
export interface TokenMetadata {
  expiresAt?: string | null;
  scopes?: string[] | null;
  tokenType?: string | null;
}

export interface ResolvedCredentials {
  type: CredentialType;
  plan: SecretPlan;
  metadata: TokenMetadata;
  /** Every secret field this type declares, for `hasSecrets`. */
  declared: string[];
}

/**
 * Checks credentials sent on create or update against the credential type and the
 * provider: known field names only, secrets as strings (or null to remove), token
 * metadata well-formed, required secrets present after carry-forward. Changing the type
 * drops every stored secret of the old type.
 */
export function resolveCredentials(
  provider: ProviderDefinition,
  authMethod: AuthMethod,
  incoming: Record<string, unknown> & { type?: CredentialType | undefined },
  stored: { type: CredentialType; secretNames: ReadonlySet<string> } | null,
): ResolvedCredentials {
  const type = incoming.type ?? stored?.type;
  if (!type) throw new LatchkeyError('validation_failed', 'credentials.type is required', { errors: [{ path: 'credentials.type', message: 'is required' }] });
  const allowed = allowedCredentialTypes(provider, authMethod);
  if (!allowed.includes(type)) {
    throw new LatchkeyError('validation_failed', 'credential type not allowed', {
      errors: [{ path: 'credentials.type', message: `must be ${allowed.join(' or ')} for a ${provider.key} integration using ${authMethod}` }],
    });
  }
  const fields = credentialFields(type, provider);
  const secretFields = fields.filter((f) => f.secret);
  const errors: FieldError[] = [];
  const secretChanges: Record<string, unknown> = {};
  const metadata: TokenMetadata = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (name === 'type') continue;
    const field = fields.find((f) => f.name === name);
    const path = `credentials.${name}`;
    if (!field) errors.push({ path, message: `is not a field of ${type} credentials (expected ${fields.map((f) => f.name).join(', ')})` });
    else if (field.secret) secretChanges[name] = value;
    else if (value === null) metadata[name as keyof TokenMetadata] = null;
    else if (field.kind === 'datetime') {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) errors.push({ path, message: 'must be an ISO 8601 date-time' });
      else metadata.expiresAt = new Date(value).toISOString();
    } else if (field.kind === 'string[]') {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length > 256) || value.length > 200) errors.push({ path, message: 'must be a list of strings' });
      else metadata.scopes = value as string[];
    } else if (typeof value !== 'string' || value.length > 64) errors.push({ path, message: 'must be a short string' });
    else metadata.tokenType = value;
  }
  if (errors.length > 0) throw new LatchkeyError('validation_failed', 'invalid credentials', { errors });
  const changes = validateSecretChanges(new Map(secretFields.map((f) => [f.name, {}])), secretChanges, 'credentials');
  const sameType = stored !== null && stored.type === type;
  const kept = sameType ? stored.secretNames : new Set<string>();
  const plan = carryForwardSecrets(kept, changes);
  if (stored && !sameType) plan.remove.push(...[...stored.secretNames].filter((n) => !(n in plan.set)));
  assertRequiredSecrets(secretFields.filter((f) => f.required).map((f) => f.name), plan.resulting, 'credentials');
  return { type, plan, metadata, declared: secretFields.map((f) => f.name) };
}
