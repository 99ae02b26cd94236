import { integrationResource } from '../audit-resources.js';
import { z } from 'zod';
import { AuthMethod } from '../../providers/provider-schema.js';
import { defineCommand, defineQuery } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { ConfigObject, IntegrationKey, NetworkAllowList, OpaqueId, PageInput, ProviderKey, QueryBoolean, SecretChanges, Tags, pageOf } from '../shared-schemas.js';
import { IntegrationRecord, Scope } from './records.js';

const meta = metaFor(OWNERS.integrations, ['integration', 'definitions']);

const manage = { auth: 'key' as const, policies: [policy('platform.integration.manage')] };
const read = { auth: 'key' as const, policies: [policy('platform.integration.read')] };

const DisplayName = z.string().trim().min(1).max(100);
const Description = z.string().max(500);

/** The whole non-secret body of an integration, plus write-only secrets (create and PUT). */
const fullBody = {
  provider: ProviderKey,
  displayName: DisplayName,
  description: Description.nullable().optional(),
  scope: Scope.default('global'),
  workspaceId: OpaqueId.nullable().optional(),
  ownerUserId: OpaqueId.nullable().optional(),
  authMethod: AuthMethod.optional().describe('Defaults to the provider\'s first auth method'),
  config: ConfigObject.default({}),
  secrets: SecretChanges.optional(),
  enabled: z.boolean().default(true),
  tags: Tags.default([]),
  allowReveal: z.boolean().default(false),
  networkAllowList: NetworkAllowList.default([]),
};

export const CreateIntegration = defineCommand({
  meta: meta(
    'integrations.integration.create',
    'Create integration',
    'Create an integration definition for one provider. Secrets are encrypted at rest and never returned.',
    'Let a tenant configure how it connects to a provider, including its own OAuth client.',
    'Config is validated against the provider\'s parameter metadata; unknown or mask-like secrets are refused.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, ...fullBody }),
    output: IntegrationRecord,
    errors: ['validation_failed', 'conflict', 'forbidden'],
  },
  policy: manage,
  http: { method: 'POST', path: '/v1/integrations', successStatus: 201 },
});

export const GetIntegration = defineQuery({
  meta: meta(
    'integrations.integration.get',
    'Get integration',
    'Get one integration definition with its non-secret settings and which secrets are set.',
    'Inspect an integration without ever retrieving its secrets.',
    'Secret values are stripped; use verify to confirm they still authenticate.',
  ),
  io: { input: z.strictObject({ key: IntegrationKey }), output: IntegrationRecord, errors: ['not_found'] },
  policy: read,
  http: { method: 'GET', path: '/v1/integrations/{key}' },
});

export const ListIntegrations = defineQuery({
  meta: meta(
    'integrations.integration.list',
    'List integrations',
    'List the tenant\'s integration definitions, newest key order, with filters.',
    'Find integrations by provider, scope, state or tag.',
    'Cursor-paginated; cost per page does not depend on how many integrations exist.',
  ),
  io: {
    input: z.strictObject({
      ...PageInput,
      provider: ProviderKey.optional(),
      scope: Scope.optional(),
      enabled: QueryBoolean.optional(),
      tag: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).optional(),
    }),
    output: pageOf(IntegrationRecord),
    errors: ['validation_failed'],
  },
  policy: read,
  http: { method: 'GET', path: '/v1/integrations', query: ['limit', 'cursor', 'provider', 'scope', 'enabled', 'tag'] },
});

const mutable = {
  displayName: DisplayName.optional(),
  description: Description.nullable().optional(),
  scope: Scope.optional(),
  workspaceId: OpaqueId.nullable().optional(),
  ownerUserId: OpaqueId.nullable().optional(),
  authMethod: AuthMethod.optional(),
  secrets: SecretChanges.optional(),
  enabled: z.boolean().optional(),
  tags: Tags.optional(),
  allowReveal: z.boolean().optional(),
  networkAllowList: NetworkAllowList.optional(),
};

export const UpdateIntegration = defineCommand({
  meta: meta(
    'integrations.integration.update',
    'Update integration',
    'Partially update an integration. Omit a secret to keep it (carry-forward), null removes it.',
    'Rotate an integration\'s secrets or adjust its settings without resending everything.',
    'Config is merged key by key (null removes a key); honours If-Match.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, ...mutable, config: z.record(z.string().max(64), z.unknown()).optional() }),
    output: IntegrationRecord,
    errors: ['not_found', 'validation_failed', 'precondition_failed'],
  },
  policy: manage,
  http: { method: 'PATCH', path: '/v1/integrations/{key}', ifMatch: true },
  audit: integrationResource,
});

export const ReplaceIntegration = defineCommand({
  meta: meta(
    'integrations.integration.replace',
    'Replace integration',
    'Replace an integration\'s whole non-secret body. Secrets still carry forward when omitted.',
    'Declaratively sync an integration definition from a source of truth.',
    'Fields left out take their defaults; the provider cannot change; honours If-Match.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, ...fullBody }),
    output: IntegrationRecord,
    errors: ['not_found', 'validation_failed', 'precondition_failed'],
  },
  policy: manage,
  http: { method: 'PUT', path: '/v1/integrations/{key}', ifMatch: true },
  audit: integrationResource,
});

export const DeleteIntegration = defineCommand({
  meta: meta(
    'integrations.integration.delete',
    'Delete integration',
    'Delete an integration. Refused with 409 while it has connections, unless cascade=true.',
    'Remove an integration and, deliberately, its connections.',
    'Deleting erases the encrypted secrets of the integration and of every cascaded connection.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, cascade: QueryBoolean.default(false) }),
    output: z.object({ key: IntegrationKey, deleted: z.literal(true), connectionsDeleted: z.number().int() }),
    errors: ['not_found', 'conflict', 'precondition_failed'],
  },
  policy: manage,
  http: { method: 'DELETE', path: '/v1/integrations/{key}', query: ['cascade'], ifMatch: true },
  audit: integrationResource,
});
