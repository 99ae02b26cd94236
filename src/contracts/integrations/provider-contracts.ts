import { z } from 'zod';
import { AuthMethod, CredentialType, ProviderDefinitionShape } from '../../providers/provider-schema.js';
import { defineQuery } from '../define.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { PageInput, ProviderKey, pageOf } from '../shared-schemas.js';

/**
 * A provider as the API shows it: its catalog entry plus what a connection stores under
 * each auth method, so forms and prompts know which credential fields exist and which are
 * secret (write-only) without a second copy of that table.
 */
export const ProviderRecord = ProviderDefinitionShape.extend({
  credentials: z
    .array(
      z.object({
        authMethod: AuthMethod,
        type: CredentialType,
        deprecated: z.boolean().describe('True for the resource-owner password grant (RFC 9700 §2.4)'),
        fields: z.array(
          z.object({
            name: z.string(),
            secret: z.boolean().describe('Write-only and encrypted: never returned, only hasSecrets'),
            required: z.boolean(),
            kind: z.enum(['string', 'datetime', 'string[]']),
          }),
        ),
      }),
    )
    .describe('Per auth method, the credential types a connection may hold and their fields'),
});

export const ListProviders = defineQuery({
  meta: {
    key: 'integrations.provider.list',
    title: 'List providers',
    version: '1.0.0',
    description: 'List the provider catalog: auth methods, OAuth endpoints, parameters and tests.',
    goal: 'Let clients discover which third parties can be connected and what each needs.',
    context: 'Studio forms, CLI prompts and server-side validation all come from the same parameter metadata.',
    owners: [OWNERS.integrations],
    tags: ['integration', 'providers'],
    stability: 'experimental',
  },
  io: {
    input: z.strictObject({
      ...PageInput,
      category: z.string().max(64).optional(),
      q: z.string().max(100).optional().describe('Case-insensitive search in key and display name'),
    }),
    output: pageOf(ProviderRecord),
    errors: ['validation_failed'],
  },
  policy: { auth: 'key', policies: [policy('platform.integration.read')] },
  http: { method: 'GET', path: '/v1/providers', query: ['limit', 'cursor', 'category', 'q'] },
});

export const GetProvider = defineQuery({
  meta: {
    key: 'integrations.provider.get',
    title: 'Get provider',
    version: '1.0.0',
    description: 'Get one provider of the catalog.',
    goal: 'Show everything needed to configure an integration for one provider.',
    context: 'Used by forms to render typed fields for config, secrets and connection parameters.',
    owners: [OWNERS.integrations],
    tags: ['integration', 'providers'],
    stability: 'experimental',
  },
  io: { input: z.strictObject({ provider: ProviderKey }), output: ProviderRecord, errors: ['not_found'] },
  policy: { auth: 'key', policies: [policy('platform.integration.read')] },
  http: { method: 'GET', path: '/v1/providers/{provider}' },
});
