import type { Kysely } from 'kysely';
import type { AuditActor, AuditInput } from '../audit/audit-log.js';
import type { ConnectionTable, Database } from '../store/schema.js';
import type { ConnectionEventData, EventValue } from '../webhooks/webhook-events.js';
import type { RefreshLease } from './refresh-lease.js';
import type { GrantFailure, TokenSet } from './token-endpoint.js';
import type { TokenServiceDeps, TokenServiceOptions } from './token-service.js';

/** A connection lifecycle event for the webhook outbox. Never carries a secret. */
export interface ConnectionEvent {
  type: 'connection.refresh_failed' | 'connection.recovered' | 'credentials.rotated';
  data: ConnectionEventData;
}

interface Caller {
  actor: AuditActor;
  requestId: string | null;
}

/** statusReason prefix of an error set by a failed refresh (a later successful one clears it). */
export const REFRESH_FAILED_PREFIX = 'refresh failed: ';

/** The statusReason of a connection whose grant the provider no longer accepts. */
export function refreshFailedReason(failure: GrantFailure): string {
  return failure.reason === 'no_refresh_token'
    ? `${REFRESH_FAILED_PREFIX}no refresh token is stored; reconnect the account`
    : `${REFRESH_FAILED_PREFIX}${failure.reason}; the provider no longer accepts the stored grant, reconnect the account`;
}

/** Backoff of the background sweep after transient failures in a row: 1, 2, 4 … minutes, at most an hour. */
const sweepBackoffMs = (failures: number) => Math.min(60 * 60_000, 60_000 * 2 ** Math.max(0, failures - 1));

/**
 * A connection event's data (the same fields as every other connection event: identity,
 * provider and state), with the state the change leaves the row in.
 */
const eventData = (row: ConnectionTable, state: { status: string; statusReason: string | null }, extra: Record<string, EventValue> = {}): ConnectionEventData => ({
  ...extra,
  integration: row.integration_key,
  connectionId: row.id,
  connectionUid: row.uid,
  provider: row.provider,
  status: state.status,
  statusReason: state.statusReason,
});

/** The `oauth.token.refresh` audit event of one refresh, in its transaction (names only, never tokens). */
function appendRefreshEvent(
  deps: TokenServiceDeps,
  trx: Kysely<Database>,
  row: ConnectionTable,
  caller: Caller,
  now: Date,
  result: Pick<AuditInput, 'outcome' | 'status' | 'changes'>,
): Promise<string> {
  return deps.audit.append(trx, {
    tenantId: row.tenant_id,
    at: now,
    actor: caller.actor,
    action: 'oauth.token.refresh',
    resource: { type: 'connection', id: `${row.integration_key}/${row.id}` },
    requestId: caller.requestId,
    ip: null,
    ...result,
  });
}

/**
 * Writes a refresh's new tokens in one transaction: the access token, the refresh token
 * when the provider rotated it, the token metadata, the lease release and the audit
 * event. Until this commits the previous pair stays stored in full — a crash in between
 * never leaves a new access token beside an old refresh token, nor no refresh token at all.
 */
export async function persistTokens(
  deps: TokenServiceDeps,
  opts: TokenServiceOptions,
  row: ConnectionTable,
  tokens: TokenSet,
  stored: Record<string, string>,
  caller: Caller,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const set: Record<string, string> = { accessToken: tokens.accessToken };
  const rotated = tokens.refreshToken !== null && tokens.refreshToken !== stored.refreshToken;
  if (rotated) set.refreshToken = tokens.refreshToken!;
  const recovered = row.status === 'error' || Number(row.refresh_failures ?? 0) > 0;
  await deps.db.transaction().execute(async (trx) => {
    const names = new Set([...Object.keys(stored), ...Object.keys(set)]);
    await deps.secrets.apply(trx, row.tenant_id, 'connection', row.uid, { set, remove: [], resulting: names }, at);
    const clearsError = row.status === 'error' && (row.status_reason ?? '').startsWith(REFRESH_FAILED_PREFIX);
    await trx
      .updateTable('connections')
      .set((eb) => ({
        expires_at: tokens.expiresAt,
        scopes: tokens.scopes ? JSON.stringify(tokens.scopes) : row.scopes,
        token_type: tokens.tokenType,
        last_refreshed_at: at,
        refresh_failures: 0,
        next_refresh_at: null,
        // The lease is released with the tokens, in the same transaction.
        refresh_lock_owner: null,
        refresh_lock_until: null,
        updated_at: at,
        version: eb('version', '+', 1),
        ...(clearsError ? { status: 'active', status_reason: null } : {}),
      }))
      .where('uid', '=', row.uid)
      .execute();
    await appendRefreshEvent(deps, trx, row, caller, now, {
      outcome: 'success',
      status: 200,
      changes: { fields: ['credentials.expiresAt', 'credentials.lastRefreshedAt'], secretsChanged: Object.keys(set).sort() },
    });
    const state = { status: 'active', statusReason: null };
    if (rotated) await opts.onEvent?.(trx, row.tenant_id, { type: 'credentials.rotated', data: eventData(row, state, { expiresAt: tokens.expiresAt }) });
    if (recovered) await opts.onEvent?.(trx, row.tenant_id, { type: 'connection.recovered', data: eventData(row, state) });
  });
}

/**
 * Records a failed refresh. `invalid_grant` puts the connection in `error` with a reason
 * (the user must reconnect) and emits `connection.refresh_failed`; transient failures only
 * count and back the sweep off — the connection stays `active` until its token expires.
 */
export async function persistFailure(
  deps: TokenServiceDeps,
  opts: TokenServiceOptions,
  row: ConnectionTable,
  failure: GrantFailure,
  caller: Caller,
  lease: RefreshLease,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const failures = Number(row.refresh_failures ?? 0) + 1;
  const permanent = failure.kind === 'invalid_grant';
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('connections')
      .set((eb) => ({
        refresh_failures: failures,
        next_refresh_at: permanent ? null : new Date(now.getTime() + sweepBackoffMs(failures)).toISOString(),
        ...(permanent ? { status: 'error', status_reason: refreshFailedReason(failure), updated_at: at, version: eb('version', '+', 1) } : {}),
      }))
      .where('uid', '=', row.uid)
      .execute();
    await lease.release(row.uid, trx);
    await appendRefreshEvent(deps, trx, row, caller, now, {
      outcome: 'error',
      status: permanent ? 409 : 502,
      changes: permanent ? { fields: ['status', 'statusReason'], secretsChanged: [] } : null,
    });
    if (permanent || failures === 1) {
      await opts.onEvent?.(trx, row.tenant_id, {
        type: 'connection.refresh_failed',
        data: eventData(row, permanent ? { status: 'error', statusReason: refreshFailedReason(failure) } : { status: row.status, statusReason: row.status_reason }, { reason: failure.reason, permanent }),
      });
    }
  });
}
