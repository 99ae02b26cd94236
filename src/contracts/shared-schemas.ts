import { z } from 'zod';

/** Integration key: `^[A-Za-z0-9_-]{1,64}$`, unique in a tenant. */
export const IntegrationKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must match ^[A-Za-z0-9_-]{1,64}$');
/**
 * Connection id, chosen by the caller: `^[A-Za-z0-9._:@-]{1,255}$`, except `.` and `..`,
 * which every URL client collapses as path segments (the id would name the integration).
 */
export const ConnectionId = z
  .string()
  .regex(/^[A-Za-z0-9._:@-]{1,255}$/, 'must match ^[A-Za-z0-9._:@-]{1,255}$')
  .refine((id) => id !== '.' && id !== '..', 'must not be "." or ".." (URL clients collapse them as path segments)');
export const ProviderKey = z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, 'must be a provider key');
export const OpaqueId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:@-]+$/, 'must be an identifier');
export const Timestamp = z.string().describe('ISO 8601 date-time (UTC)');

/** A boolean that also accepts the query-string forms `true` / `false`. */
export const QueryBoolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** `?limit=` (1–200, default 50) and an opaque `?cursor=`. */
export const PageInput = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size, 1–200'),
  cursor: z.string().max(512).optional().describe('Opaque cursor from the previous page\'s nextCursor'),
};

/** `{ data, nextCursor }` around a record schema. */
export const pageOf = <T extends z.ZodType>(record: T) =>
  z.object({ data: z.array(record), nextCursor: z.string().nullable() });

/** Non-secret key/value config object (validated against provider parameters by the handler). */
export const ConfigObject = z.record(z.string().max(64), z.unknown()).describe('Non-secret parameters, validated against the provider');
/** Write-only secrets: a string sets, `null` removes, an omitted field keeps its value. */
export const SecretChanges = z
  .record(z.string().max(64), z.string().nullable())
  .describe('Write-only secret fields: a string sets, null removes, omitted keeps the stored value');

export const Tags = z.array(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/)).max(32);
export const Labels = z
  .record(z.string().regex(/^[A-Za-z0-9._/-]{1,63}$/), z.string().max(256))
  .refine((v) => Object.keys(v).length <= 32, 'at most 32 labels');

export const HasSecrets = z.record(z.string(), z.boolean()).describe('Which write-only fields are set; values are never returned');

/**
 * Hosts (`db.internal`, `*.corp.example`) or CIDRs (`10.1.0.0/16`) that this integration's
 * tests, proxy and OAuth calls may reach although they are private. Empty by default.
 */
export const NetworkAllowList = z
  .array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.*:/_-]+$/, 'must be a host name, wildcard host or CIDR'))
  .max(32)
  .describe('Private hosts or CIDRs this integration may reach despite the outbound guard');
