import { z } from 'zod';
import { defineCommand, defineQuery } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { PageInput, Timestamp, pageOf } from '../shared-schemas.js';

const meta = metaFor(OWNERS.audit, ['audit']);

export const AuditEventRecord = z.object({
  id: z.string(),
  seq: z.number().int(),
  at: Timestamp,
  actor: z.object({ type: z.enum(['api_key', 'system']), keyId: z.string().nullable(), userId: z.string().nullable() }),
  action: z.string(),
  resource: z.object({ type: z.string(), id: z.string() }).nullable(),
  outcome: z.enum(['success', 'denied', 'error']),
  status: z.number().int(),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  changes: z
    .object({
      fields: z.array(z.string()),
      secretsChanged: z.array(z.string()),
      reason: z.string().optional().describe('The reason the caller gave, for operations that require one (e.g. X-Reveal-Reason)'),
    })
    .nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

const read = { auth: 'key' as const, policies: [policy('platform.audit.read')] };

export const ListAuditEvents = defineQuery({
  meta: meta(
    'audit.event.list',
    'List audit events',
    'List the tenant\'s audit events, newest first, with filters.',
    'Answer who did what, to which record, when, and whether it was allowed.',
    'Events name changed fields and secrets, never values; each is chained to the previous by hash.',
  ),
  io: {
    input: z.strictObject({
      ...PageInput,
      action: z.string().max(128).optional(),
      actorKeyId: z.string().max(128).optional(),
      resourceType: z.string().max(64).optional(),
      resourceId: z.string().max(255).optional(),
      outcome: z.enum(['success', 'denied', 'error']).optional(),
      since: z.iso.datetime().optional(),
      until: z.iso.datetime().optional(),
    }),
    output: pageOf(AuditEventRecord),
    errors: ['validation_failed'],
  },
  policy: read,
  http: { method: 'GET', path: '/v1/audit-events', query: ['limit', 'cursor', 'action', 'actorKeyId', 'resourceType', 'resourceId', 'outcome', 'since', 'until'] },
});

export const VerifyAuditChain = defineCommand({
  meta: meta(
    'audit.chain.verify',
    'Verify audit chain',
    'Recompute the tenant\'s audit hash chain and report the first edited, deleted or reordered event.',
    'Prove the audit trail has not been tampered with.',
    'Reads every event of the tenant in sequence order.',
  ),
  io: {
    input: z.strictObject({}),
    output: z.object({
      ok: z.boolean(),
      checked: z.number().int(),
      firstProblem: z.object({ seq: z.number().int(), problem: z.enum(['hash_mismatch', 'broken_link', 'gap', 'head_mismatch']) }).nullable(),
    }),
    errors: [],
  },
  policy: read,
  http: { method: 'POST', path: '/v1/audit-events/verify' },
});
