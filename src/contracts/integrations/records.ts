import { z } from 'zod';
import { AuthMethod, CredentialType } from '../../providers/provider-schema.js';
import { ConfigObject, ConnectionId, HasSecrets, IntegrationKey, Labels, NetworkAllowList, Tags, Timestamp } from '../shared-schemas.js';

export const Scope = z.enum(['global', 'workspace', 'user']);

/** An integration as every surface shows it. Secrets appear only as `hasSecrets`. */
export const IntegrationRecord = z.object({
  key: IntegrationKey,
  uid: z.string().describe('Stable identity; kept across updates'),
  provider: z.string(),
  displayName: z.string(),
  description: z.string().nullable(),
  scope: Scope,
  workspaceId: z.string().nullable(),
  ownerUserId: z.string().nullable(),
  authMethod: AuthMethod,
  config: ConfigObject,
  hasSecrets: HasSecrets,
  enabled: z.boolean(),
  tags: Tags,
  allowReveal: z.boolean(),
  networkAllowList: NetworkAllowList,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  createdBy: z.string().nullable(),
  updatedBy: z.string().nullable(),
  version: z.number().int(),
});
export type IntegrationRecord = z.infer<typeof IntegrationRecord>;

export const ConnectionStatus = z.enum(['active', 'expired', 'error', 'disabled']);

export const ConnectionHealth = z.object({
  checkedAt: Timestamp,
  ok: z.boolean(),
  latencyMs: z.number().nullable(),
  errorCode: z.string().nullable(),
});

/** A connection as every surface shows it. Credentials appear only as type, `hasSecrets` and token metadata. */
export const ConnectionRecord = z.object({
  id: ConnectionId,
  uid: z.string().describe('Stable identity; kept across updates'),
  integration: IntegrationKey,
  provider: z.string(),
  config: ConfigObject,
  metadata: z.record(z.string(), z.unknown()),
  labels: Labels,
  enabled: z.boolean(),
  credentials: z.object({
    type: CredentialType,
    hasSecrets: HasSecrets,
    expiresAt: Timestamp.nullable(),
    scopes: z.array(z.string()).nullable(),
    lastRefreshedAt: Timestamp.nullable(),
  }),
  status: ConnectionStatus,
  statusReason: z.string().nullable(),
  health: ConnectionHealth.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  createdBy: z.string().nullable(),
  updatedBy: z.string().nullable(),
  version: z.number().int(),
});
export type ConnectionRecord = z.infer<typeof ConnectionRecord>;
