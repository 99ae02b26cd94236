import type { HandlerContext } from '../../contracts/context.js';
import type { InputOf, OutputOf } from '../../contracts/define.js';
import type { RevealConnection } from '../../contracts/integrations/reveal-contract.js';
import { LatchkeyError } from '../../errors.js';
import type { CredentialType } from '../../providers/provider-schema.js';
import { loadIntegration } from '../integrations/integration-rows.js';
import type { Services } from '../services.js';
import { loadConnectionRow } from './connection-rows.js';

type RevealOutput = OutputOf<typeof RevealConnection>;

/**
 * `integrations.connection.reveal`: the one operation that returns stored credential values
 * (SPEC 2.7). The registry has already checked the explicit `platform.credential.reveal`
 * grant; this adds the integration's opt-in and writes the reason into the audit event —
 * before any check, so a refused reveal is recorded with its reason too.
 */
export function revealHandler(services: Services) {
  return async function reveal(input: InputOf<typeof RevealConnection>, ctx: HandlerContext): Promise<RevealOutput> {
    const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
    const row = await loadConnectionRow(ctx.db, integration, input.id);
    ctx.audit.resource = { type: 'connection', id: `${integration.key}/${row.id}` };
    ctx.audit.changes = { fields: [], secretsChanged: [], reason: input.reason };
    if (integration.allow_reveal !== 1) {
      throw new LatchkeyError('forbidden', `integration "${integration.key}" does not allow revealing credentials (allowReveal is false)`, { reason: 'reveal_not_allowed' });
    }
    // Reveal is a runtime use like minting and proxying: switched-off records give nothing out.
    if (integration.enabled !== 1) throw new LatchkeyError('conflict', `integration "${integration.key}" is disabled`, { reason: 'integration_disabled' });
    if (row.enabled !== 1) throw new LatchkeyError('conflict', `connection "${row.id}" is disabled`, { reason: 'connection_disabled' });

    const stored = await services.secrets.read(ctx.db, ctx.principal.tenantId, 'connection', row.uid);
    const credentials: RevealOutput['credentials'] = { type: row.credential_type as CredentialType, ...stored };
    if (row.expires_at !== null) credentials.expiresAt = row.expires_at;
    if (row.scopes !== null) credentials.scopes = JSON.parse(row.scopes) as string[];
    if (row.token_type !== null) credentials.tokenType = row.token_type;
    return { integration: integration.key, id: row.id, uid: row.uid, credentials, revealedAt: ctx.now.toISOString() };
  };
}
