import { connectionResource } from '../audit-resources.js';
import { z } from 'zod';
import { TEST_ERROR_CODES } from '../../testers/test-result.js';
import { defineCommand } from '../define.js';
import { metaFor } from '../meta.js';
import { OWNERS } from '../owners.js';
import { policy } from '../policies.js';
import { ConfigObject, ConnectionId, IntegrationKey, Timestamp } from '../shared-schemas.js';
import { CredentialsInput } from './connection-contracts.js';

const meta = metaFor(OWNERS.integrations, ['integration', 'connections', 'tests']);

/** The outcome of a live test (SPEC section 7). Never carries a secret. */
export const TestResultRecord = z.object({
  ok: z.boolean(),
  latencyMs: z.number(),
  checkedAt: Timestamp,
  details: z.record(z.string(), z.unknown()),
  error: z.object({ code: z.enum(TEST_ERROR_CODES), message: z.string() }).nullable(),
});

export const TestConnection = defineCommand({
  meta: meta(
    'integrations.connection.test',
    'Test connection',
    'Run the provider\'s live test with the connection\'s stored credentials and record its health.',
    'Know whether a connection still works before a workload depends on it.',
    'Each provider declares its test (an HTTP request, a PostgreSQL SELECT 1, an SFTP listing, a signed SES call). Every test has a timeout; results never contain secrets.',
  ),
  io: {
    input: z.strictObject({ key: IntegrationKey, id: ConnectionId }),
    output: TestResultRecord,
    errors: ['not_found', 'conflict'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.manage')] },
  http: { method: 'POST', path: '/v1/integrations/{key}/connections/{id}/test' },
  audit: connectionResource,
});

export const TestCredentials = defineCommand({
  meta: meta(
    'integrations.credentials.test',
    'Test credentials',
    'Test credentials before saving them, optionally merged over an existing connection\'s stored ones.',
    'Catch a wrong password or key before it replaces working credentials.',
    'Nothing is stored. With connectionId, omitted fields carry forward from that connection, exactly as an update would.',
  ),
  io: {
    input: z.strictObject({
      integration: IntegrationKey,
      connectionId: ConnectionId.optional().describe('Merge over this connection\'s stored credentials and config'),
      config: ConfigObject.default({}),
      credentials: CredentialsInput.partial({ type: true }),
    }),
    output: TestResultRecord,
    errors: ['not_found', 'validation_failed', 'conflict'],
  },
  policy: { auth: 'key', policies: [policy('platform.connection.manage')] },
  http: { method: 'POST', path: '/v1/credentials/test' },
});
