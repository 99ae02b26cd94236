import { z } from 'zod';
import { defineQuery } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { ALL_POLICY_KEYS, POLICY_KEYS, ROLES, policy } from '../policies.js';
import { Timestamp } from '../shared-schemas.js';

const meta = metaFor(OWNERS.access, ['access']);

/** The calling key as the server resolved it: never the key itself. */
export const PrincipalRecord = z.object({
  key: z.object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe('First characters of the key, to recognise it'),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
  }),
  tenant: z.object({
    id: z.string(),
    name: z.string(),
    isPlatform: z.boolean().describe('The operator tenant, whose admins also manage tenants'),
  }),
  role: z.enum(ROLES),
  userId: z.string().nullable().describe('The user the key acts for, if it is bound to one'),
  workspaceId: z.string().nullable().describe('The workspace the key is restricted to, if any'),
  policies: z.array(z.enum(POLICY_KEYS)).describe('Explicit grants beyond the role'),
  grants: z.array(z.enum(ALL_POLICY_KEYS)).describe('Every policy the key holds (role bundle, explicit grants and the policies every key holds), sorted'),
});

/**
 * `GET /v1/me` — who the caller is. Guarded by `platform.self.read`, which every valid key
 * holds, so asking never leaves a `denied` audit event.
 *
 * @example
 * ```ts
 * const me = await lk.whoAmI();
 * if (me.grants.includes('platform.integration.manage')) showCreateButton();
 * ```
 */
export const WhoAmI = defineQuery({
  meta: meta(
    'access.principal.whoami',
    'Who am I',
    'The calling API key as the server sees it: its id, name and prefix (never the key), its tenant, role, user and workspace binding, its explicit grants and every policy it holds.',
    'Let a client find out what its key may do before it acts, instead of trying operations and reading refusals.',
    'Any valid key may ask (policy platform.self.read, which every key holds), so the answer never costs a denied audit event. Queries are not audited. A key revoked or expired a moment ago answers 401 like any other call.',
    ['principals'],
  ),
  io: { input: z.strictObject({}), output: PrincipalRecord, errors: [] },
  policy: { auth: 'key', policies: [policy('platform.self.read')] },
  http: { method: 'GET', path: '/v1/me' },
});
