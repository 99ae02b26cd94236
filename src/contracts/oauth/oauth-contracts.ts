import { connectionResource, integrationResource } from '../audit-resources.js';
import { z } from 'zod';
import { defineCommand } from '../define.js';
import { Metadata } from '../integrations/connection-contracts.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { ConnectionId, IntegrationKey, Timestamp } from '../shared-schemas.js';

const meta = metaFor(OWNERS.integrations, ['oauth']);

/** Where the end user returns after the connect flow: an absolute http(s) URL without credentials. */
const RedirectUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL without credentials');

export const CreateConnectSession = defineCommand({
  meta: meta(
    'connect.session.create',
    'Create connect session',
    'Create a one-time link that lets an end user connect their account through the provider\'s OAuth consent.',
    'Let an application add OAuth connections without ever handling the user\'s tokens.',
    'Open `connectUrl` in the user\'s browser. Latchkey redirects to the provider with state and PKCE (S256), exchanges the code on the callback, stores the tokens as the connection `connectionId` (created or updated), and redirects to `redirectUrl` with `status=success&connectionId=…` or `status=error&error=<code>` (access_denied, invalid_state, expired_session, invalid_session, exchange_failed, provider_error, misconfigured). The token is single-use and expires.',
  ),
  io: {
    input: z.strictObject({
      integration: IntegrationKey,
      connectionId: ConnectionId.describe('The connection the tokens are stored as (created, or updated on reconnect)'),
      metadata: Metadata.optional().describe('Stored on the connection when the flow completes'),
      redirectUrl: RedirectUrl.optional().describe('Where the user is sent afterwards, with the outcome in the query'),
      expiresIn: z.number().int().min(60).max(86_400).default(1800).describe('Seconds the link stays valid'),
    }),
    output: z.object({
      token: z.string().describe('One-time session token (shown once)'),
      connectUrl: z.string(),
      expiresAt: Timestamp,
    }),
    errors: ['not_found', 'conflict', 'validation_failed'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.manage')] },
  http: { method: 'POST', path: '/v1/connect/sessions', successStatus: 201 },
});

export const MintedTokenRecord = z.object({
  accessToken: z.string().describe('A short-lived access token; never the refresh token'),
  tokenType: z.string(),
  expiresAt: Timestamp.nullable(),
  scopes: z.array(z.string()).nullable(),
});

export const MintConnectionToken = defineCommand({
  meta: meta(
    'integrations.connection.token',
    'Mint access token',
    'Return a usable access token for an OAuth connection, refreshing it first when it expires within the refresh margin.',
    'Let a workload call the provider directly without holding long-lived credentials.',
    'Client-credentials connections mint from the integration\'s client; password-grant connections from their stored credentials. Concurrent callers share one refresh. Every mint is audited, without the token. Disabled integrations or connections, and connections in error, get 409.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, id: ConnectionId }),
    output: MintedTokenRecord,
    errors: ['not_found', 'conflict', 'upstream_failed', 'upstream_timeout'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.use')] },
  // A replayed response would hand out a token without an audit event of its own.
  http: { method: 'POST', path: '/v1/integrations/{key}/connections/{id}/token', idempotencyKey: false },
  audit: connectionResource,
});

export const RefreshConnection = defineCommand({
  meta: meta(
    'integrations.connection.refresh',
    'Refresh connection',
    'Refresh an OAuth connection\'s token now, even if it is still valid.',
    'Recover a connection after fixing the provider side, or pick up changed scopes.',
    'Uses the same single-flight refresh as minting. Returns the connection\'s token state, never the token. A refresh the provider refuses with invalid_grant puts the connection in error.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, id: ConnectionId }),
    output: z.object({ refreshed: z.literal(true), expiresAt: Timestamp.nullable(), scopes: z.array(z.string()).nullable() }),
    errors: ['not_found', 'conflict', 'upstream_failed', 'upstream_timeout'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.manage')] },
  http: { method: 'POST', path: '/v1/integrations/{key}/connections/{id}/refresh' },
  audit: connectionResource,
});

export const VerifyIntegration = defineCommand({
  meta: meta(
    'integrations.integration.verify',
    'Verify integration',
    'Check that the integration\'s own credentials still authenticate, with a real client-credentials grant.',
    'Catch a rotated or revoked client secret before connections start failing.',
    'For integrations whose auth method is oauth2_client_credentials (any provider that offers it, the generic oauth2 one included); any other answers 409 verify_unsupported. The token obtained is discarded.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey }),
    output: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.object({ code: z.string(), message: z.string() }).nullable() }),
    errors: ['not_found', 'conflict'],
  },
  policy: { auth: 'key', policies: [policy('platform.integration.manage')] },
  http: { method: 'POST', path: '/v1/integrations/{key}/verify' },
  audit: integrationResource,
});
