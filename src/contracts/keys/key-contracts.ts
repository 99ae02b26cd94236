import { z } from 'zod';
import { defineCommand, defineQuery } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { Timestamp } from '../shared-schemas.js';

const meta = metaFor(OWNERS.keys, ['keys']);

/** Tenant admins manage their own tenant's data key; the root key is the platform operators'. */
const tenantAdmin = { auth: 'key' as const, policies: [policy('platform.access.manage')] };
const platformOperator = { auth: 'key' as const, policies: [policy('platform.tenant.manage')] };

export const DataKeyVersionRecord = z.object({
  version: z.number().int(),
  state: z.enum(['current', 'superseded', 'retired']).describe('current encrypts; superseded only decrypts; retired is erased'),
  rootKeyId: z.string().nullable().describe('The root key version that wraps it (null once retired)'),
  createdAt: Timestamp,
  supersededAt: Timestamp.nullable(),
  retiredAt: Timestamp.nullable(),
  encryptions: z.number().int().describe('Encryptions made with this version; it is rotated automatically at 0.9 × 2^32'),
  usage: z.number().describe('Share of the 2^32 AES-GCM limit used'),
  records: z.number().int().describe('Stored ciphertexts that still name this version'),
});

export const RootKeyVersionRecord = z.object({
  id: z.string().describe('Root key version id: rk_… (local key) or vault:<mount>/<key>:v<n>'),
  state: z.enum(['current', 'previous', 'retired']),
  provider: z.string(),
  createdAt: Timestamp,
  retiredAt: Timestamp.nullable(),
  wrappedKeys: z.number().int().describe('Data keys and system secrets wrapped under it'),
});

export const GetKeyStatus = defineQuery({
  meta: meta(
    'keys.keyring.get',
    'Get key status',
    'Show the caller\'s tenant data-key versions with their encryption counts and how many records each still encrypts; platform operators also see the root key versions and any re-encryption in progress.',
    'Know which keys protect the tenant\'s secrets and whether a rotation or re-encryption is due.',
    'Key ids and counts only: no key material is ever returned.',
  ),
  io: {
    input: z.strictObject({}),
    output: z.object({
      tenantId: z.string(),
      currentVersion: z.number().int(),
      versions: z.array(DataKeyVersionRecord),
      rootKey: z
        .object({
          provider: z.enum(['env', 'file', 'vault']),
          currentKeyId: z.string(),
          versions: z.array(RootKeyVersionRecord),
        })
        .nullable()
        .describe('Only for platform operators (platform.tenant.manage)'),
      reencryption: z
        .object({ jobId: z.string(), processed: z.number().int(), total: z.number().int(), startedAt: Timestamp, updatedAt: Timestamp })
        .nullable()
        .describe('A re-encryption job that has not finished (platform operators only)'),
    }),
    errors: [],
  },
  policy: tenantAdmin,
  http: { method: 'GET', path: '/v1/keys' },
});

export const RotateDataKey = defineCommand({
  meta: meta(
    'keys.dataKey.rotate',
    'Rotate data key',
    'Give the caller\'s tenant a new data-key version: new secrets are encrypted with it, existing ones keep decrypting with theirs.',
    'Limit how much any one data key protects, on a schedule or after a suspected exposure.',
    'Existing ciphertexts move to the new version with `latchkey keys reencrypt`; a version nothing references is then retired. Versions also rotate automatically before 0.9 × 2^32 encryptions.',
  ),
  io: {
    input: z.strictObject({}),
    output: z.object({ tenantId: z.string(), version: z.number().int(), previousVersion: z.number().int().nullable() }),
    errors: [],
  },
  policy: tenantAdmin,
  http: { method: 'POST', path: '/v1/keys/data-key/rotate' },
});

export const RotateRootKey = defineCommand({
  meta: meta(
    'keys.rootKey.rotate',
    'Rotate root key',
    'Make a new root key version current and rewrap every tenant\'s data keys under it, online: no secret is re-encrypted.',
    'Replace the key that protects all data keys without downtime.',
    'The new version comes from the key provider: a key added to the configuration, a new line in the key file, or a Vault Transit key rotation. Keys given only in LATCHKEY_ROOT_KEY cannot be created by the server (409).',
  ),
  io: {
    input: z.strictObject({}),
    output: z.object({
      previousKeyId: z.string(),
      keyId: z.string(),
      rewrapped: z.number().int().describe('Wrapped keys moved to the new version'),
      retiredKeyIds: z.array(z.string()).describe('Root key versions nothing is wrapped under any more'),
    }),
    errors: ['conflict'],
  },
  policy: platformOperator,
  http: { method: 'POST', path: '/v1/keys/root-key/rotate' },
});
