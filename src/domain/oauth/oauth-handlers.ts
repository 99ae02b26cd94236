import type { HandlerContext, PrepareContext } from '../../contracts/context.js';
import type { InputOf } from '../../contracts/define.js';
import type { CreateConnectSession, MintConnectionToken, RefreshConnection, VerifyIntegration } from '../../contracts/oauth/oauth-contracts.js';
import { LatchkeyError } from '../../errors.js';
import { oauthSettingsOf } from '../../oauth/oauth-settings.js';
import type { MintedToken } from '../../oauth/token-service.js';
import { providerOfIntegration } from '../connections/connection-rows.js';
import { loadConnectionTarget } from '../connections/connection-target.js';
import { loadIntegration } from '../integrations/integration-rows.js';
import type { Services } from '../services.js';
import { assertCanManage } from '../visibility.js';

const callerOf = (ctx: PrepareContext) => ({ actor: { type: 'api_key' as const, keyId: ctx.principal.keyId, userId: ctx.principal.userId }, requestId: ctx.requestId });

/**
 * OAuth operations: connect sessions, token minting, forced refresh and integration
 * verification. Token requests run in the prepare step, outside any transaction; the
 * handler then records the call (never the token) in the audit chain.
 */
export function oauthHandlers(services: Services) {
  const { tokens, connect } = services;

  // One statement for both rows: a mint runs it on every call.
  const loadTarget = (ctx: PrepareContext, key: string, id: string) => loadConnectionTarget(ctx.db, ctx.principal, key, id);

  return {
    async createConnectSession(input: InputOf<typeof CreateConnectSession>, ctx: HandlerContext) {
      const integration = await loadIntegration(ctx.db, ctx.principal, input.integration);
      assertCanManage(ctx.principal, integration);
      if (integration.auth_method !== 'oauth2') {
        throw new LatchkeyError('conflict', `integration "${integration.key}" uses ${integration.auth_method}; connect sessions need the oauth2 (authorization code) method`, { reason: 'not_oauth2' });
      }
      if (integration.enabled !== 1) throw new LatchkeyError('conflict', `integration "${integration.key}" is disabled`, { reason: 'integration_disabled' });
      const settings = oauthSettingsOf(providerOfIntegration(services.catalog, integration), JSON.parse(integration.config));
      if (!settings.authorizationUrl) throw new LatchkeyError('conflict', 'the integration has no authorization URL', { reason: 'oauth_misconfigured' });
      const created = await connect.create(ctx.db, {
        integration,
        connectionId: input.connectionId,
        metadata: input.metadata,
        redirectUrl: input.redirectUrl,
        expiresInSeconds: input.expiresIn,
        createdBy: ctx.principal.keyId,
      });
      ctx.audit.resource = { type: 'connect_session', id: created.uid };
      ctx.audit.changes = { fields: ['integration', 'connectionId', 'expiresAt'], secretsChanged: [] };
      return { token: created.token, connectUrl: created.connectUrl, expiresAt: created.expiresAt };
    },

    async prepareMint(input: InputOf<typeof MintConnectionToken>, ctx: PrepareContext): Promise<MintedToken> {
      const { integration, row } = await loadTarget(ctx, input.key, input.id);
      return tokens.mint(integration, row, callerOf(ctx));
    },

    async mint(_input: InputOf<typeof MintConnectionToken>, ctx: HandlerContext): Promise<MintedToken> {
      return ctx.prepared as MintedToken;
    },

    async prepareRefresh(input: InputOf<typeof RefreshConnection>, ctx: PrepareContext): Promise<MintedToken> {
      const { integration, row } = await loadTarget(ctx, input.key, input.id);
      assertCanManage(ctx.principal, integration);
      return tokens.mint(integration, row, callerOf(ctx), { force: true });
    },

    async refresh(_input: InputOf<typeof RefreshConnection>, ctx: HandlerContext) {
      const minted = ctx.prepared as MintedToken;
      return { refreshed: true as const, expiresAt: minted.expiresAt, scopes: minted.scopes };
    },

    async prepareVerify(input: InputOf<typeof VerifyIntegration>, ctx: PrepareContext) {
      const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
      if (integration.auth_method !== 'oauth2_client_credentials') {
        throw new LatchkeyError('conflict', `integration "${integration.key}" uses ${integration.auth_method}; verify performs a client-credentials grant`, { reason: 'verify_unsupported' });
      }
      return tokens.verifyIntegration(integration);
    },

    async verify(_input: InputOf<typeof VerifyIntegration>, ctx: HandlerContext) {
      return ctx.prepared as { ok: boolean; latencyMs: number; error: { code: string; message: string } | null };
    },
  };
}
