import type { Kysely } from 'kysely';
import type { HandlerContext, PrepareContext } from '../../contracts/context.js';
import type { InputOf } from '../../contracts/define.js';
import type { TestConnection, TestCredentials } from '../../contracts/integrations/test-contracts.js';
import { LatchkeyError } from '../../errors.js';
import type { AuthMethod, CredentialType } from '../../providers/provider-schema.js';
import type { ConnectionTable, Database, IntegrationTable } from '../../store/schema.js';
import { runConnectionTest } from '../../testers/run-connection-test.js';
import type { TestResult } from '../../testers/test-result.js';
import { loadIntegration } from '../integrations/integration-rows.js';
import { mergeConfig } from '../merge-config.js';
import type { Services } from '../services.js';
import { connectionEvent, eventSubjectOf } from '../webhooks/connection-events.js';
import { loadConnectionRow, providerOfIntegration, validateConnectionConfig } from './connection-rows.js';
import { changedTargetFields, credentialsRequiredFor, sendsCredentialFields } from './credential-target.js';
import { resolveCredentials } from './credential-validation.js';

/** statusReason prefix of an error set by a failed test (so a passing test may clear it). */
const TEST_FAILED_REASON = 'connection test failed: ';

type IncomingCredentials = Record<string, unknown> & { type?: CredentialType | undefined };

/** What a test ran against, so the handler can check nothing changed in between. */
export interface PreparedTest {
  result: TestResult;
  connectionUid: string | null;
  version: number | null;
}

/**
 * Live connection tests: of a stored connection, of unsaved credentials (optionally
 * merged over a stored connection), and before a verified update. The test itself runs in
 * the prepare step, outside any transaction; only its outcome is written inside one.
 */
export function connectionTesting(services: Services) {
  const { catalog, secrets } = services;

  /** Stored credentials with the incoming ones applied, exactly as an update would (carry-forward). */
  async function mergedCredentials(
    db: Kysely<Database>,
    integration: IntegrationTable,
    row: ConnectionTable | null,
    incoming: IncomingCredentials | undefined,
    config?: Record<string, unknown>,
  ) {
    // Stored secrets only ever go to the stored target (see credential-target.ts).
    const retargeted = row && config ? changedTargetFields(JSON.parse(row.config), config) : [];
    if (retargeted.length > 0 && !sendsCredentialFields(incoming)) throw credentialsRequiredFor(retargeted);
    const stored = row && retargeted.length === 0 ? await secrets.read(db, row.tenant_id, 'connection', row.uid) : {};
    const storedType = row?.credential_type as CredentialType | undefined;
    if (!incoming) return { type: storedType!, fields: stored };
    const provider = providerOfIntegration(catalog, integration);
    const resolved = resolveCredentials(provider, integration.auth_method as AuthMethod, incoming, row ? { type: storedType!, secretNames: new Set(Object.keys(stored)) } : null);
    const fields: Record<string, unknown> = resolved.type === storedType ? { ...stored } : {};
    for (const name of resolved.plan.remove) delete fields[name];
    Object.assign(fields, resolved.plan.set);
    if (resolved.metadata.tokenType) fields.tokenType = resolved.metadata.tokenType;
    return { type: resolved.type, fields };
  }

  /** OAuth 1.0a signs with the integration's consumer secret as well as the token's: it joins the credentials (and is scrubbed with them). */
  async function withConsumerSecret(db: Kysely<Database>, integration: IntegrationTable, credentials: { type: CredentialType; fields: Record<string, unknown> }) {
    if (credentials.type !== 'oauth1') return credentials;
    const { consumerSecret } = await secrets.read(db, integration.tenant_id, 'integration', integration.uid);
    return { type: credentials.type, fields: { ...credentials.fields, consumerSecret } };
  }

  /** Runs the provider's test with the integration's guard (operator setting plus its allow-list). */
  async function run(
    db: Kysely<Database>,
    integration: IntegrationTable,
    connectionConfig: Record<string, unknown>,
    credentials: { type: CredentialType; fields: Record<string, unknown> },
  ): Promise<TestResult> {
    const guard = services.guard.withAllowList(JSON.parse(integration.network_allow_list) as string[]);
    const result = await runConnectionTest(
      {
        provider: providerOfIntegration(catalog, integration),
        authMethod: integration.auth_method as AuthMethod,
        integrationConfig: JSON.parse(integration.config),
        connectionConfig,
        credentials: await withConsumerSecret(db, integration, credentials),
      },
      { guard, timeoutMs: services.testTimeoutMs },
    );
    services.metrics.connectionTest(result.ok ? 'ok' : (result.error?.code ?? 'unexpected_error'));
    return result;
  }

  /**
   * Writes a test's outcome as the connection's health (a new version). Health is observed
   * state, so it is written even if the connection changed while the test ran: throwing a
   * 10-second test away for that would help no one. A deleted connection gets nothing.
   */
  async function recordHealth(ctx: HandlerContext, prepared: PreparedTest): Promise<void> {
    if (!prepared.connectionUid) return;
    const health = { checkedAt: prepared.result.checkedAt, ok: prepared.result.ok, latencyMs: prepared.result.latencyMs, errorCode: prepared.result.error?.code ?? null };
    // Rejected credentials make the connection `error` until a test passes or they are
    // replaced; other failures (timeouts, unreachable hosts) say nothing about them.
    const code = prepared.result.error?.code;
    const status = code === 'auth_failed' ? { status: 'error', status_reason: `${TEST_FAILED_REASON}auth_failed` } : null;
    await ctx.db
      .updateTable('connections')
      .set((eb) => ({ health: JSON.stringify(health), version: eb('version', '+', 1), updated_at: ctx.now.toISOString(), updated_by: ctx.principal.keyId, ...(status ?? {}) }))
      .where('uid', '=', prepared.connectionUid)
      .execute();
    const subjectOf = async (uid: string) => {
      const row = await ctx.db.selectFrom('connections').selectAll().where('uid', '=', uid).executeTakeFirst();
      if (!row) return null;
      return { tenantId: row.tenant_id, subject: eventSubjectOf(row, await secrets.names(ctx.db, row.uid), ctx.now) };
    };
    if (prepared.result.ok) {
      const cleared = await ctx.db
        .updateTable('connections')
        .set({ status: 'active', status_reason: null })
        .where('uid', '=', prepared.connectionUid)
        .where('status_reason', 'like', `${TEST_FAILED_REASON}%`)
        .executeTakeFirst();
      // A test that passes after one that put the connection in error: it is usable again.
      const found = Number(cleared.numUpdatedRows) === 1 ? await subjectOf(prepared.connectionUid) : null;
      if (found) await services.webhooks.enqueue(ctx.db, found.tenantId, connectionEvent('connection.recovered', found.subject), ctx.now);
    } else {
      const found = await subjectOf(prepared.connectionUid);
      if (found) await services.webhooks.enqueue(ctx.db, found.tenantId, connectionEvent('connection.test_failed', found.subject, { errorCode: code ?? 'unexpected_error' }), ctx.now);
    }
  }

  return {
    async prepareConnectionTest(input: InputOf<typeof TestConnection>, ctx: PrepareContext): Promise<PreparedTest> {
      const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
      const row = await loadConnectionRow(ctx.db, integration, input.id);
      const result = await run(ctx.db, integration, JSON.parse(row.config), await mergedCredentials(ctx.db, integration, row, undefined));
      return { result, connectionUid: row.uid, version: Number(row.version) };
    },

    async testConnection(_input: InputOf<typeof TestConnection>, ctx: HandlerContext): Promise<TestResult> {
      const prepared = ctx.prepared as PreparedTest;
      await recordHealth(ctx, prepared);
      ctx.audit.changes = { fields: ['health'], secretsChanged: [] };
      return prepared.result;
    },

    async prepareCredentialsTest(input: InputOf<typeof TestCredentials>, ctx: PrepareContext): Promise<PreparedTest> {
      const integration = await loadIntegration(ctx.db, ctx.principal, input.integration);
      const row = input.connectionId ? await loadConnectionRow(ctx.db, integration, input.connectionId) : null;
      const config = validateConnectionConfig(catalog, integration, mergeConfig(row ? JSON.parse(row.config) : {}, input.config));
      if (!row && !input.credentials.type) {
        throw new LatchkeyError('validation_failed', 'credentials.type is required', { errors: [{ path: 'credentials.type', message: 'is required without connectionId' }] });
      }
      const result = await run(ctx.db, integration, config, await mergedCredentials(ctx.db, integration, row, input.credentials, config));
      return { result, connectionUid: null, version: null };
    },

    async testCredentials(input: InputOf<typeof TestCredentials>, ctx: HandlerContext): Promise<TestResult> {
      const prepared = ctx.prepared as PreparedTest;
      ctx.audit.resource = { type: input.connectionId ? 'connection' : 'integration', id: input.connectionId ? `${input.integration}/${input.connectionId}` : input.integration };
      ctx.audit.changes = { fields: [], secretsChanged: [] };
      return prepared.result;
    },

    /**
     * `PATCH …?verify=true`: tests the merged result of the update before anything is
     * saved. A failed test is a 422 carrying the result; nothing changes.
     */
    async prepareVerifiedUpdate(
      input: { key: string; id: string; verify: boolean; config?: Record<string, unknown> | undefined; credentials?: IncomingCredentials | undefined },
      ctx: PrepareContext,
    ): Promise<PreparedTest | undefined> {
      if (!input.verify) return undefined;
      const integration = await loadIntegration(ctx.db, ctx.principal, input.key);
      const row = await loadConnectionRow(ctx.db, integration, input.id);
      const config = validateConnectionConfig(catalog, integration, mergeConfig(JSON.parse(row.config), input.config));
      const result = await run(ctx.db, integration, config, await mergedCredentials(ctx.db, integration, row, input.credentials, config));
      if (!result.ok) {
        throw new LatchkeyError('validation_failed', `the connection test failed (${result.error?.code}); nothing was saved`, {
          reason: 'verification_failed',
          extensions: { testResult: result },
        });
      }
      return { result, connectionUid: row.uid, version: Number(row.version) };
    },
  };
}
