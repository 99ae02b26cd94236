import { connectionResource } from '../audit-resources.js';
import { z } from 'zod';
import { CredentialType } from '../../providers/provider-schema.js';
import { defineCommand } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { ConnectionId, IntegrationKey, Timestamp } from '../shared-schemas.js';

const meta = metaFor(OWNERS.integrations, ['integration', 'connections', 'credentials']);

/** The HTTP header that carries a reveal's reason (required). */
export const REVEAL_REASON_HEADER = 'X-Reveal-Reason';

export const RevealConnection = defineCommand({
  meta: meta(
    'integrations.connection.reveal',
    'Reveal connection credentials',
    'Return a connection\'s decrypted credentials — only to a key explicitly granted platform.credential.reveal, only where the integration allows reveal, with a stated reason, and always audited.',
    'Hand stored credentials to a workload that cannot use the proxy or a minted token (e.g. a database driver), as a deliberate, traceable act.',
    'No role carries platform.credential.reveal: an access manager grants it to a key explicitly. The integration must have allowReveal: true (403 reveal_not_allowed otherwise). The X-Reveal-Reason header (1–500 characters) is required and is written to the audit event with the caller; the values never are. Never offered as an MCP tool; the CLI prints the values only with --show-secrets.',
  ),
  io: {
    input: z.strictObject({
      key: IntegrationKey,
      id: ConnectionId,
      reason: z
        .string({ error: `send the ${REVEAL_REASON_HEADER} header: why the credentials are revealed (1–500 characters)` })
        .trim()
        .min(1, `${REVEAL_REASON_HEADER} must not be empty`)
        .max(500, `${REVEAL_REASON_HEADER} must be at most 500 characters`)
        .describe(`Why the credentials are revealed; sent as the ${REVEAL_REASON_HEADER} header and recorded in the audit event`),
    }),
    output: z.object({
      integration: IntegrationKey,
      id: ConnectionId,
      uid: z.string(),
      credentials: z
        .object({ type: CredentialType })
        .catchall(z.union([z.string(), z.array(z.string()), z.null()]))
        .describe('type, every stored secret field in clear, and the token metadata (expiresAt, scopes, tokenType) where the type has it'),
      revealedAt: Timestamp,
    }),
    errors: ['not_found', 'forbidden', 'validation_failed', 'conflict'],
  },
  policy: { auth: 'key', policies: [policy('platform.credential.reveal')] },
  http: {
    method: 'POST',
    path: '/v1/integrations/{key}/connections/{id}/reveal',
    headers: { reason: REVEAL_REASON_HEADER },
    idempotencyKey: false,
  },
  audit: connectionResource,
});
