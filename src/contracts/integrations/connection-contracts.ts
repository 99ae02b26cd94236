import { connectionResource } from '../audit-resources.js';
import { z } from 'zod';
import { CredentialType } from '../../providers/provider-schema.js';
import { defineCommand, defineQuery } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { ConfigObject, ConnectionId, IntegrationKey, Labels, PageInput, ProviderKey, QueryBoolean, pageOf } from '../shared-schemas.js';
import { ConnectionRecord, ConnectionStatus } from './records.js';

const meta = metaFor(OWNERS.integrations, ['integration', 'connections']);

const METADATA_MAX_BYTES = 16 * 1024;
export const Metadata = z
  .record(z.string().max(128), z.unknown())
  .refine((m) => new TextEncoder().encode(JSON.stringify(m)).length <= METADATA_MAX_BYTES, `must be at most ${METADATA_MAX_BYTES} bytes of JSON`);

/**
 * Credentials as sent: `type` plus the canonical fields of that type (`accessToken`,
 * `apiKey`, `username`/`password`, …). Values are write-only; the handler checks the
 * names against the type and the provider.
 */
export const CredentialsInput = z
  .object({ type: CredentialType })
  .catchall(z.union([z.string(), z.array(z.string()), z.null()]))
  .describe('type plus its canonical fields; secret values are write-only');

export const CreateConnection = defineCommand({
  meta: meta(
    'integrations.connection.create',
    'Create connection',
    'Create (import) a connection under an integration with its credentials.',
    'Bring existing credentials for an end-user account under Latchkey\'s care.',
    'The id is the caller\'s (typically its user or tenant id) and is unique within the integration.',
  ),
  io: {
    input: z.strictObject({
      key: IntegrationKey,
      id: ConnectionId,
      config: ConfigObject.default({}),
      metadata: Metadata.default({}),
      labels: Labels.default({}),
      enabled: z.boolean().default(true),
      credentials: CredentialsInput,
    }),
    output: ConnectionRecord,
    errors: ['not_found', 'validation_failed', 'conflict'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.manage')] },
  http: { method: 'POST', path: '/v1/integrations/{key}/connections', successStatus: 201 },
});

export const GetConnection = defineQuery({
  meta: meta(
    'integrations.connection.get',
    'Get connection',
    'Get one connection: metadata, status, health and credential state, never credential values.',
    'Check a connection\'s state before using it.',
    'hasSecrets tells which credential fields are set.',
  ),
  io: { input: z.strictObject({ key: IntegrationKey, id: ConnectionId }), output: ConnectionRecord, errors: ['not_found'] },
  policy: { auth: 'key', policies: [policy('platform.connection.read')] },
  http: { method: 'GET', path: '/v1/integrations/{key}/connections/{id}' },
});

export const ListConnections = defineQuery({
  meta: meta(
    'integrations.connection.list',
    'List connections',
    'List connections of one integration, or across all integrations of the tenant.',
    'Find connections by status, provider or label.',
    'Cursor-paginated in creation order; cost per page does not depend on the number of connections.',
  ),
  io: {
    input: z.strictObject({
      key: IntegrationKey.optional().describe('The integration; omitted on /v1/connections'),
      ...PageInput,
      status: ConnectionStatus.optional(),
      provider: ProviderKey.optional(),
      enabled: QueryBoolean.optional(),
    }),
    output: pageOf(ConnectionRecord),
    errors: ['not_found', 'validation_failed'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.read')] },
  http: {
    method: 'GET',
    path: '/v1/integrations/{key}/connections',
    aliases: ['/v1/connections'],
    query: ['limit', 'cursor', 'status', 'provider', 'enabled'],
  },
});

export const UpdateConnection = defineCommand({
  meta: meta(
    'integrations.connection.update',
    'Update connection',
    'Update metadata or credentials for an integration connection.',
    'Allow secure rotation of credentials and metadata adjustments.',
    'Supports rotating API keys, toggling status, or updating labels for tenant integrations. Omitted credential fields carry forward; null removes one.',
  ),
  io: {
    input: z.strictObject({
      key: IntegrationKey,
      id: ConnectionId,
      config: z.record(z.string().max(64), z.unknown()).optional().describe('Merged key by key; null removes a key'),
      metadata: Metadata.optional().describe('Replaces the whole metadata object'),
      labels: Labels.optional(),
      enabled: z.boolean().optional(),
      credentials: CredentialsInput.partial({ type: true }).optional(),
      verify: QueryBoolean.default(false).describe('Test the merged credentials first; save only if the test passes (422 with the result otherwise)'),
    }),
    output: ConnectionRecord,
    errors: ['not_found', 'validation_failed', 'precondition_failed'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.manage')] },
  http: { method: 'PATCH', path: '/v1/integrations/{key}/connections/{id}', query: ['verify'], ifMatch: true },
  audit: connectionResource,
});

export const DeleteConnection = defineCommand({
  meta: meta(
    'integrations.connection.delete',
    'Delete connection',
    'Delete a connection and erase its credentials.',
    'Disconnect an end-user account.',
    'The encrypted credentials are deleted with the record; honours If-Match.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, id: ConnectionId }),
    output: z.object({ key: IntegrationKey, id: ConnectionId, deleted: z.literal(true) }),
    errors: ['not_found', 'precondition_failed'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.manage')] },
  http: { method: 'DELETE', path: '/v1/integrations/{key}/connections/{id}', ifMatch: true },
  audit: connectionResource,
});
