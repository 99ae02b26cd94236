import type { Kysely } from 'kysely';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { LatchkeyError } from '../errors.js';
import type { OutboundGuard } from '../net/outbound-guard.js';
import type { ProviderCatalog } from '../providers/catalog.js';
import { reusableQuery } from '../store/reusable-query.js';
import type { ConnectionTable, Database, IntegrationTable } from '../store/schema.js';
import type { SecretStore } from '../store/secret-store.js';
import { type OAuthSettings, oauthSettingsOf } from './oauth-settings.js';
import { RefreshLease } from './refresh-lease.js';
import { GrantFailure, TokenEndpoint, type TokenSet } from './token-endpoint.js';
import { type ConnectionEvent, persistFailure, persistTokens, refreshFailedReason } from './token-persistence.js';

/** What a mint returns: never the refresh token or the client secret. */
export interface MintedToken {
  accessToken: string;
  tokenType: string;
  expiresAt: string | null;
  scopes: string[] | null;
}

export interface TokenServiceDeps {
  db: Kysely<Database>;
  keyring: Keyring;
  secrets: SecretStore;
  catalog: ProviderCatalog;
  audit: AuditLog;
  guard: OutboundGuard;
}

export interface TokenServiceOptions {
  /** Identifies this process as a lease owner. */
  instanceId: string;
  /** Refresh when the token expires within this margin (default 5 minutes). */
  refreshMarginMs: number;
  /** Timeout of one token request. */
  timeoutMs: number;
  /** Allow `http://` token endpoints (only with LATCHKEY_ALLOW_PRIVATE_NETWORKS, for development and tests). */
  allowInsecure: boolean;
  /**
   * The shortest a refresh lease lasts before another instance may take over (a crashed
   * holder). The lease is never shorter than the longest a live holder can take (see
   * {@link refreshLeaseMs}), so a slow provider cannot get one refresh made twice.
   */
  leaseMs?: number;
  /** Attempts and first backoff delay for transient token-endpoint failures. */
  retry?: { attempts: number; baseDelayMs: number };
  clock?: () => Date;
  /** Connection lifecycle events, written in the same transaction as the change (webhook outbox). */
  onEvent?: (trx: Kysely<Database>, tenantId: string, event: ConnectionEvent) => Promise<void>;
  /** Refresh outcomes, for metrics. */
  onOutcome?: (outcome: 'success' | 'invalid_grant' | 'transient_error' | 'rejected' | 'skipped') => void;
  /**
   * Runs after the provider answered and before the new tokens are written. Only tests set
   * it, to stand in for a crash at the one moment that matters for rotated refresh tokens.
   */
  beforeStore?: (connectionUid: string) => Promise<void>;
}

interface Caller {
  actor: AuditActor;
  requestId: string | null;
}

const OAUTH_TYPES = new Set(['oauth2', 'oauth2_client_credentials', 'oauth2_password']);
const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 200 } as const;
/** Read on every mint of a cached token: compiled once per dialect. */
const storedAccessToken = reusableQuery((db: Kysely<Database>, ownerUid: string) =>
  db.selectFrom('secrets').select('ciphertext').where('owner_uid', '=', ownerUid).where('field', '=', 'accessToken'),
);
/** Room on top of a holder's longest token requests: the reads and the write around them. */
const LEASE_SLACK_MS = 5_000;

/**
 * How long a refresh lease must last: every attempt timing out and every backoff at its
 * longest, plus slack. Were it shorter, a second instance could take the lease from a live
 * holder still waiting on a slow provider and spend the same refresh token again; with
 * rotating refresh tokens the provider then refuses one of the two and the connection
 * breaks although the refresh succeeded. (One case can outlast it: a password-grant
 * connection whose refresh token is refused makes a second, password, request in the same
 * attempt. A takeover then repeats only a password grant, which spends nothing.)
 *
 * @example
 * ```ts
 * refreshLeaseMs({ timeoutMs: 10_000, retry: { attempts: 3, baseDelayMs: 200 } }); // 35_600
 * ```
 */
export function refreshLeaseMs(opts: Pick<TokenServiceOptions, 'timeoutMs' | 'retry' | 'leaseMs'>): number {
  const { attempts, baseDelayMs } = opts.retry ?? DEFAULT_RETRY;
  // Backoff before attempt k+1 is at most baseDelayMs·2^(k−1): their sum is baseDelayMs·(2^(attempts−1) − 1).
  const longest = attempts * opts.timeoutMs + baseDelayMs * (2 ** Math.max(0, attempts - 1) - 1) + LEASE_SLACK_MS;
  return Math.max(opts.leaseMs ?? 30_000, longest);
}
const POLL_MS = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Keeps OAuth connections usable: hands out access tokens, refreshing (or minting, for
 * client credentials and the password grant) when they expire within the margin.
 *
 * Refresh is single-flight per connection at two levels: in this process one promise per
 * connection is shared by every caller, and across processes sharing the database a
 * {@link RefreshLease} on the row lets one instance call the token endpoint while the
 * others wait and then read what it stored. After taking the lease the row is read again,
 * so a refresh another instance has just finished is used instead of repeated.
 *
 * @example
 * ```ts
 * const token = await tokens.mint(integration, connection, { actor, requestId });
 * fetch(url, { headers: { authorization: `Bearer ${token.accessToken}` } });
 * ```
 */
export class TokenService {
  private readonly inflight = new Map<string, Promise<MintedToken>>();
  private readonly lease: RefreshLease;
  private readonly leaseMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly deps: TokenServiceDeps,
    private readonly opts: TokenServiceOptions,
  ) {
    this.clock = opts.clock ?? (() => new Date());
    this.leaseMs = refreshLeaseMs(opts);
    this.lease = new RefreshLease(deps.db, opts.instanceId, this.leaseMs);
  }

  /** True when the connection holds an OAuth credential type this service manages. */
  static manages(row: ConnectionTable): boolean {
    return OAUTH_TYPES.has(row.credential_type);
  }

  /**
   * A usable access token for the connection. `force` refreshes even a fresh token (the
   * `refresh` operation, or the proxy after a 401), but still only once per burst.
   * `dueSince` is when the caller judged the token due: a refresh finished after it is used
   * instead of another one.
   */
  async mint(integration: IntegrationTable, row: ConnectionTable, caller: Caller, opts: { force?: boolean; dueSince?: Date } = {}): Promise<MintedToken> {
    if (!TokenService.manages(row)) {
      throw new LatchkeyError('conflict', `connection credentials are of type ${row.credential_type}; only OAuth connections mint tokens`, { reason: 'not_oauth' });
    }
    if (integration.enabled !== 1) throw new LatchkeyError('conflict', `integration "${integration.key}" is disabled`, { reason: 'integration_disabled' });
    if (row.enabled !== 1) throw new LatchkeyError('conflict', `connection "${row.id}" is disabled`, { reason: 'connection_disabled' });
    if (!opts.force) {
      if (row.status === 'error') throw connectionInError(row);
      if (this.isFresh(row) || this.backingOff(row)) {
        const token = await this.storedToken(this.deps.db, row);
        if (token) return token;
      }
    }
    const running = this.inflight.get(row.uid);
    if (running) return running;
    // A refresh that finished after this moment counts as done (the sweep passes the time it
    // judged the row due, so a connection another instance refreshed since is skipped).
    const started = opts.dueSince ?? this.clock();
    const flight = this.refreshOnce(integration, row.uid, started, caller, opts.force === true).finally(() => this.inflight.delete(row.uid));
    this.inflight.set(row.uid, flight);
    return flight;
  }

  /** `integrations.integration.verify`: a real client-credentials grant with the integration's own client. */
  async verifyIntegration(integration: IntegrationTable): Promise<{ ok: boolean; latencyMs: number; error: { code: string; message: string } | null }> {
    const started = performance.now();
    try {
      const endpoint = await this.endpointFor(integration);
      await endpoint.clientCredentials();
      return { ok: true, latencyMs: Math.round(performance.now() - started), error: null };
    } catch (error) {
      const latencyMs = Math.round(performance.now() - started);
      if (error instanceof GrantFailure) return { ok: false, latencyMs, error: { code: error.reason, message: error.message } };
      if (error instanceof LatchkeyError) return { ok: false, latencyMs, error: { code: error.reason ?? error.code, message: error.message } };
      throw error;
    }
  }

  /** The token endpoint client of an integration (its settings and decrypted client secret). */
  async endpointFor(integration: IntegrationTable): Promise<TokenEndpoint> {
    const provider = this.deps.catalog.get(integration.provider);
    if (!provider) throw new LatchkeyError('conflict', `provider ${integration.provider} is no longer in the catalog`, { reason: 'provider_missing' });
    const settings: OAuthSettings = oauthSettingsOf(provider, JSON.parse(integration.config));
    const secrets = await this.deps.secrets.read(this.deps.db, integration.tenant_id, 'integration', integration.uid);
    const guard = this.deps.guard.withAllowList(JSON.parse(integration.network_allow_list) as string[]);
    // Plain http is for development (LATCHKEY_ALLOW_PRIVATE_NETWORKS) and for an internal
    // identity provider the integration's allow-list names explicitly; never for the internet.
    const host = new URL(settings.tokenUrl).hostname.replace(/^\[|\]$/g, '');
    const named = guard.allowList.coversHost(host) || guard.allowList.coversAddress(host);
    return new TokenEndpoint(settings, secrets.clientSecret, { guard, timeoutMs: this.opts.timeoutMs, allowInsecure: this.opts.allowInsecure || named });
  }

  /** Whether the stored token is good for longer than the refresh margin. */
  isFresh(row: ConnectionTable, now = this.clock()): boolean {
    if (row.expires_at === null) return row.last_refreshed_at !== null || row.credential_type === 'oauth2';
    return Date.parse(row.expires_at) - now.getTime() > this.opts.refreshMarginMs;
  }

  /**
   * True while the token endpoint is being backed off after transient failures and the
   * stored token has not actually expired: callers get that token at once instead of each
   * retrying a provider that is down (the sweep retries when the backoff ends).
   */
  private backingOff(row: ConnectionTable): boolean {
    if (!row.next_refresh_at || row.expires_at === null) return false;
    const now = this.clock().getTime();
    return Date.parse(row.next_refresh_at) > now && Date.parse(row.expires_at) > now;
  }

  private async storedToken(db: Kysely<Database>, row: ConnectionTable): Promise<MintedToken | null> {
    const [secret] = await storedAccessToken(db, row.uid);
    if (!secret) return null;
    const accessToken = await this.deps.keyring.decrypt(db, { tenantId: row.tenant_id, kind: 'connection', uid: row.uid, field: 'accessToken' }, secret.ciphertext);
    return { accessToken, tokenType: row.token_type ?? 'bearer', expiresAt: row.expires_at, scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]) };
  }

  private readRow(uid: string): Promise<ConnectionTable | undefined> {
    return this.deps.db.selectFrom('connections').selectAll().where('uid', '=', uid).executeTakeFirst();
  }

  /** The stored token when a refresh finished after `started`, or (unless forced) it is fresh anyway; else null. */
  private async settledToken(row: ConnectionTable, started: Date, force: boolean): Promise<MintedToken | null> {
    const refreshedSince = row.last_refreshed_at !== null && Date.parse(row.last_refreshed_at) >= started.getTime();
    if (!refreshedSince && (force || row.status === 'error' || !this.isFresh(row))) return null;
    return this.storedToken(this.deps.db, row);
  }

  /**
   * Takes the lease or waits for whoever holds it. Waiters poll the row: once it shows a
   * refresh that finished after they started (or a fresh token), they use it.
   */
  private async refreshOnce(integration: IntegrationTable, uid: string, started: Date, caller: Caller, force: boolean): Promise<MintedToken> {
    const deadline = started.getTime() + this.leaseMs + 5_000;
    for (;;) {
      const now = this.clock();
      if (await this.lease.acquire(uid, now)) return this.refreshHoldingLease(integration, uid, started, caller, force);
      await sleep(POLL_MS + Math.random() * POLL_MS);
      const row = await this.readRow(uid);
      if (!row) throw new LatchkeyError('not_found', 'the connection was deleted while its token was being refreshed');
      const settled = await this.settledToken(row, started, force);
      if (settled) return settled;
      if (row.status === 'error' && row.refresh_lock_owner === null && row.updated_at >= started.toISOString()) throw connectionInError(row);
      if (this.clock().getTime() > deadline) throw new LatchkeyError('upstream_timeout', 'another instance is still refreshing this connection\'s token', { reason: 'refresh_in_progress' });
    }
  }

  private async refreshHoldingLease(integration: IntegrationTable, uid: string, started: Date, caller: Caller, force: boolean): Promise<MintedToken> {
    let released = false;
    try {
      const row = await this.readRow(uid);
      if (!row) throw new LatchkeyError('not_found', 'the connection was deleted while its token was being refreshed');
      // Someone finished a refresh between our read and the lease: use theirs.
      const settled = await this.settledToken(row, started, force);
      if (settled) {
        this.opts.onOutcome?.('skipped');
        return settled;
      }
      const stored = await this.deps.secrets.read(this.deps.db, row.tenant_id, 'connection', row.uid);
      let tokens: TokenSet;
      try {
        tokens = await this.grantWithRetry(integration, row, stored);
      } catch (error) {
        if (!(error instanceof GrantFailure)) throw error;
        this.opts.onOutcome?.(error.kind === 'invalid_grant' ? 'invalid_grant' : error.kind === 'transient' ? 'transient_error' : 'rejected');
        released = true;
        await persistFailure(this.deps, this.opts, row, error, caller, this.lease, this.clock());
        return await this.afterFailure(row, error);
      }
      await this.opts.beforeStore?.(row.uid);
      released = true;
      await persistTokens(this.deps, this.opts, row, tokens, stored, caller, this.clock());
      this.opts.onOutcome?.('success');
      return { accessToken: tokens.accessToken, tokenType: tokens.tokenType, expiresAt: tokens.expiresAt, scopes: tokens.scopes };
    } finally {
      if (!released) await this.lease.release(uid).catch(() => undefined);
    }
  }

  /** After a failed grant: a token that has not actually expired is still handed out (transient failures only). */
  private async afterFailure(row: ConnectionTable, failure: GrantFailure): Promise<MintedToken> {
    if (failure.kind === 'invalid_grant') throw connectionInError({ ...row, status_reason: refreshFailedReason(failure) });
    const stillValid = row.expires_at !== null && Date.parse(row.expires_at) > this.clock().getTime();
    if (failure.kind === 'transient' && stillValid) {
      const token = await this.storedToken(this.deps.db, row);
      if (token) return token;
    }
    if (failure.kind === 'transient') {
      throw new LatchkeyError(failure.reason === 'timeout' ? 'upstream_timeout' : 'upstream_failed', `the provider's token endpoint did not answer usefully (${failure.reason}); try again shortly`, {
        reason: 'token_endpoint_unavailable',
      });
    }
    throw new LatchkeyError('upstream_failed', `the provider's token endpoint refused the request (${failure.reason}); check the integration's client settings`, { reason: 'token_endpoint_rejected' });
  }

  private async grantWithRetry(integration: IntegrationTable, row: ConnectionTable, stored: Record<string, string>): Promise<TokenSet> {
    const { attempts, baseDelayMs } = this.opts.retry ?? DEFAULT_RETRY;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.grant(integration, row, stored);
      } catch (error) {
        if (!(error instanceof GrantFailure) || error.kind !== 'transient' || attempt >= attempts) throw error;
        // Exponential backoff with full jitter, so instances and connections do not retry in step.
        await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  private async grant(integration: IntegrationTable, row: ConnectionTable, stored: Record<string, string>): Promise<TokenSet> {
    const endpoint = await this.endpointFor(integration);
    switch (row.credential_type) {
      case 'oauth2':
        if (!stored.refreshToken) throw new GrantFailure('invalid_grant', 'no_refresh_token', null);
        return endpoint.refresh(stored.refreshToken);
      case 'oauth2_client_credentials':
        return endpoint.clientCredentials();
      case 'oauth2_password': {
        if (stored.refreshToken) {
          try {
            return await endpoint.refresh(stored.refreshToken);
          } catch (error) {
            // A dead refresh token is no loss while we hold the password.
            if (!(error instanceof GrantFailure) || error.kind !== 'invalid_grant') throw error;
          }
        }
        if (!stored.username || !stored.password) throw new GrantFailure('invalid_grant', 'no_password', null);
        return endpoint.password(stored.username, stored.password);
      }
      default:
        throw new LatchkeyError('conflict', 'only OAuth connections mint tokens', { reason: 'not_oauth' });
    }
  }

  /**
   * The background sweep: refreshes connections whose tokens expire within the margin
   * (and are due after any backoff), at most `concurrency` at a time. Leases make each due
   * connection refreshed once even when every instance sweeps.
   */
  async sweep(opts: { limit?: number; concurrency?: number } = {}): Promise<{ attempted: number; refreshed: number; failed: number }> {
    const now = this.clock();
    const horizon = new Date(now.getTime() + this.opts.refreshMarginMs).toISOString();
    const due = await this.deps.db
      .selectFrom('connections')
      .innerJoin('integrations', 'integrations.uid', 'connections.integration_uid')
      .selectAll('connections')
      .where('connections.credential_type', 'in', [...OAUTH_TYPES])
      .where('connections.enabled', '=', 1)
      .where('integrations.enabled', '=', 1)
      .where('connections.status', '!=', 'error')
      .where('connections.expires_at', 'is not', null)
      .where('connections.expires_at', '<', horizon)
      .where((eb) => eb.or([eb('connections.next_refresh_at', 'is', null), eb('connections.next_refresh_at', '<=', now.toISOString())]))
      .where((eb) => eb.or([eb('connections.refresh_lock_until', 'is', null), eb('connections.refresh_lock_until', '<', now.toISOString())]))
      .orderBy('connections.expires_at')
      .limit(opts.limit ?? 500)
      .execute();
    let refreshed = 0;
    let failed = 0;
    const queue = [...due];
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        const integration = await this.deps.db.selectFrom('integrations').selectAll().where('uid', '=', row.integration_uid).executeTakeFirst();
        if (!integration) continue;
        try {
          await this.mint(integration, row, { actor: { type: 'system', keyId: null, userId: null }, requestId: null }, { dueSince: now });
          refreshed++;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, due.length) }, worker));
    return { attempted: due.length, refreshed, failed };
  }
}

function connectionInError(row: Pick<ConnectionTable, 'id' | 'status_reason'>): LatchkeyError {
  return new LatchkeyError('conflict', `connection "${row.id}" is in error: ${row.status_reason ?? 'unknown reason'}`, { reason: 'connection_error' });
}
