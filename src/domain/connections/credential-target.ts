import { LatchkeyError } from '../../errors.js';

/**
 * Config fields that decide where credentials are sent, or how the far end is verified.
 * Changing one of them turns carry-forward off for the stored secrets: they must be sent
 * again. Otherwise anyone allowed to edit a connection (but not to reveal it) could point
 * it at a server of their own and receive the stored password with the next test.
 * (Grafana and Airbyte reset secure fields on a URL change for the same reason.)
 */
const TARGET_FIELDS = new Set([
  'host',
  'port',
  'baseUrl',
  'endpoint',
  'region',
  'subdomain',
  'instanceHost',
  'workspaceHost',
  'cloudId',
  'site',
  'loginHost',
  'tenantId',
  'authorizationUrl',
  'tokenUrl',
  'sslMode',
  'caCertificate',
  'hostKeyFingerprint',
]);

/** The target fields whose value differs between stored and new config. */
export function changedTargetFields(stored: Record<string, unknown>, next: Record<string, unknown>): string[] {
  return [...TARGET_FIELDS].filter((name) => JSON.stringify(stored[name] ?? null) !== JSON.stringify(next[name] ?? null)).sort();
}

/** The 422 when a target changed but no credentials were sent with it. */
export function credentialsRequiredFor(fields: string[]): LatchkeyError {
  return new LatchkeyError('validation_failed', `changing ${fields.join(', ')} requires sending the credentials again`, {
    reason: 'credentials_required_for_new_target',
    errors: [{ path: 'credentials', message: `stored secrets are not carried forward to a new ${fields.join('/')}; send them again` }],
  });
}

/** True when credentials were sent with at least one field besides `type`. */
export const sendsCredentialFields = (incoming: Record<string, unknown> | undefined): boolean =>
  incoming !== undefined && Object.keys(incoming).some((name) => name !== 'type');
