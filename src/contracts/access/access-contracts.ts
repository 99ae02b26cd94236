import { apiKeyResource } from '../audit-resources.js';
import { z } from 'zod';
import { defineCommand, defineQuery } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { POLICY_KEYS, ROLES, policy } from '../policies.js';
import { OpaqueId, PageInput, QueryBoolean, Timestamp, pageOf } from '../shared-schemas.js';

const meta = metaFor(OWNERS.access, ['access']);

export const ApiKeyRecord = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  policies: z.array(z.enum(POLICY_KEYS)).describe('Explicit grants beyond the role'),
  userId: z.string().nullable(),
  workspaceId: z.string().nullable(),
  prefix: z.string().describe('First characters of the key, to recognise it'),
  createdAt: Timestamp,
  createdBy: z.string().nullable(),
  expiresAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});

export const TenantRecord = z.object({ id: z.string(), name: z.string(), createdAt: Timestamp });

const manage = { auth: 'key' as const, policies: [policy('platform.access.manage')] };

export const CreateApiKey = defineCommand({
  meta: meta(
    'access.apiKey.create',
    'Create API key',
    'Create an API key for the caller\'s tenant. The key is shown once and stored only as a hash.',
    'Give a workload or person scoped access to the API.',
    'Roles bundle policies; extra policies (e.g. platform.credential.reveal) are granted explicitly.',
    ['api-keys'],
  ),
  io: {
    input: z.strictObject({
      name: z.string().trim().min(1).max(100),
      role: z.enum(ROLES),
      policies: z.array(z.enum(POLICY_KEYS)).max(POLICY_KEYS.length).default([]),
      userId: OpaqueId.optional(),
      workspaceId: OpaqueId.optional(),
      expiresAt: z.iso.datetime().optional(),
    }),
    output: z.object({ apiKey: ApiKeyRecord, key: z.string().describe('The key itself; shown only in this response') }),
    errors: ['validation_failed', 'forbidden'],
  },
  policy: manage,
  http: { method: 'POST', path: '/v1/api-keys', successStatus: 201 },
});

export const ListApiKeys = defineQuery({
  meta: meta('access.apiKey.list', 'List API keys', 'List the tenant\'s API keys (never the keys themselves).', 'Review who can call the API.', 'Revoked keys are hidden unless includeRevoked=true.', ['api-keys']),
  io: {
    input: z.strictObject({ ...PageInput, includeRevoked: QueryBoolean.default(false) }),
    output: pageOf(ApiKeyRecord),
    errors: ['validation_failed'],
  },
  policy: manage,
  http: { method: 'GET', path: '/v1/api-keys', query: ['limit', 'cursor', 'includeRevoked'] },
});

export const RevokeApiKey = defineCommand({
  meta: meta('access.apiKey.revoke', 'Revoke API key', 'Revoke an API key; it stops working at once.', 'Cut off a leaked or unused key.', 'A key cannot revoke itself, so a tenant is never locked out by accident.', ['api-keys']),
  io: { input: z.strictObject({ id: OpaqueId }), output: ApiKeyRecord, errors: ['not_found', 'conflict'] },
  policy: manage,
  http: { method: 'DELETE', path: '/v1/api-keys/{id}' },
  audit: apiKeyResource,
});

const tenantManage = { auth: 'key' as const, policies: [policy('platform.tenant.manage')] };

export const CreateTenant = defineCommand({
  meta: meta('access.tenant.create', 'Create tenant', 'Create a tenant with its first admin key (shown once).', 'Onboard an organisation onto a shared Latchkey.', 'Platform operators only; each tenant gets its own data key.', ['tenants']),
  io: {
    input: z.strictObject({ name: z.string().trim().min(1).max(100) }),
    output: z.object({ tenant: TenantRecord, adminKey: z.string().describe('The first admin key; shown only in this response') }),
    errors: ['validation_failed'],
  },
  policy: tenantManage,
  http: { method: 'POST', path: '/v1/tenants', successStatus: 201 },
});

export const ListTenants = defineQuery({
  meta: meta('access.tenant.list', 'List tenants', 'List tenants.', 'See who is on this Latchkey.', 'Platform operators only.', ['tenants']),
  io: { input: z.strictObject({ ...PageInput }), output: pageOf(TenantRecord), errors: ['validation_failed'] },
  policy: tenantManage,
  http: { method: 'GET', path: '/v1/tenants', query: ['limit', 'cursor'] },
});
