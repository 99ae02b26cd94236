import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as oauth from 'oauth4webapi';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { newId } from '../ids.js';
import type { ProviderCatalog } from '../providers/catalog.js';
import type { ConnectSessionTable, ConnectionTable, Database, IntegrationTable } from '../store/schema.js';
import type { SecretStore } from '../store/secret-store.js';
import { oauthSettingsOf } from './oauth-settings.js';
import { GrantFailure, type TokenSet } from './token-endpoint.js';
import type { TokenService } from './token-service.js';
import type { ConnectionEventData } from '../webhooks/webhook-events.js';

/** Error codes a connect flow reports back to the application's `redirectUrl`. */
export type ConnectErrorCode = 'access_denied' | 'invalid_state' | 'expired_session' | 'invalid_session' | 'exchange_failed' | 'provider_error' | 'misconfigured';

/** Where the end user goes next: a redirect, or a page when there is nowhere to send them. */
export type ConnectOutcome =
  | { kind: 'redirect'; location: string }
  | { kind: 'page'; status: number; title: string; message: string };

export interface ConnectSessionsDeps {
  db: Kysely<Database>;
  keyring: Keyring;
  secrets: SecretStore;
  catalog: ProviderCatalog;
  audit: AuditLog;
  tokens: TokenService;
  /** `LATCHKEY_PUBLIC_URL`: the base of connect links and of the OAuth redirect URI. */
  publicUrl: string;
  clock?: () => Date;
  /** Where failed exchanges are reported (reason codes and messages only, never bodies). */
  logger?: { warn(obj: object, msg: string): void };
  /** Lifecycle events (`connection.created` / `connection.updated`) in the same transaction. */
  onEvent?: (trx: Kysely<Database>, tenantId: string, event: { type: 'connection.created' | 'connection.updated'; data: ConnectionEventData }) => Promise<void>;
}

const hash = (value: string) => createHash('sha256').update(value).digest('hex');
const TOKEN_PREFIX = 'lkc_';

/**
 * The OAuth connect flow (SPEC section 6). An application creates a session and hands
 * its one-time URL to the end user; opening it sends them to the provider with `state`
 * and PKCE; the callback checks the single-use, expiring state, exchanges the code and
 * stores the tokens as a connection, then sends the user back to the application.
 *
 * Only hashes of the session token and the state are stored (they are bearer values with
 * nothing to recover), and the PKCE verifier is encrypted under the tenant's data key.
 */
export class ConnectSessions {
  private readonly clock: () => Date;

  constructor(private readonly deps: ConnectSessionsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  get redirectUri(): string {
    return `${this.deps.publicUrl}/oauth/callback`;
  }

  /** Stores a new session (inside the caller's transaction) and returns its one-time token. */
  async create(
    trx: Kysely<Database>,
    input: { integration: IntegrationTable; connectionId: string; metadata: Record<string, unknown> | undefined; redirectUrl: string | undefined; expiresInSeconds: number; createdBy: string },
  ): Promise<{ uid: string; token: string; connectUrl: string; expiresAt: string }> {
    const now = this.clock();
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(now.getTime() + input.expiresInSeconds * 1000).toISOString();
    const uid = newId('cs', now.getTime());
    await trx
      .insertInto('connect_sessions')
      .values({
        uid,
        tenant_id: input.integration.tenant_id,
        integration_uid: input.integration.uid,
        integration_key: input.integration.key,
        connection_id: input.connectionId,
        metadata: JSON.stringify(input.metadata ?? null),
        redirect_url: input.redirectUrl ?? null,
        token_hash: hash(token),
        state_hash: null,
        verifier: null,
        created_by: input.createdBy,
        created_at: now.toISOString(),
        expires_at: expiresAt,
        opened_at: null,
        completed_at: null,
        outcome: null,
      })
      .execute();
    return { uid, token, connectUrl: `${this.deps.publicUrl}/connect/${token}`, expiresAt };
  }

  /** `GET /connect/{token}`: consumes the token and sends the user to the provider. */
  async open(token: string): Promise<ConnectOutcome> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return invalidLink();
    const session = await this.deps.db.selectFrom('connect_sessions').selectAll().where('token_hash', '=', hash(token)).executeTakeFirst();
    if (!session) return invalidLink();
    const now = this.clock();
    if (Date.parse(session.expires_at) <= now.getTime()) return this.finish(session, 'expired_session');
    const integration = await this.deps.db.selectFrom('integrations').selectAll().where('uid', '=', session.integration_uid).executeTakeFirst();
    if (!integration || integration.enabled !== 1 || integration.auth_method !== 'oauth2') return this.finish(session, 'misconfigured');
    const provider = this.deps.catalog.get(integration.provider);
    let settings;
    try {
      settings = provider ? oauthSettingsOf(provider, JSON.parse(integration.config)) : null;
    } catch {
      settings = null;
    }
    if (!settings?.authorizationUrl) return this.finish(session, 'misconfigured');

    const state = oauth.generateRandomState();
    const verifier = settings.pkce ? oauth.generateRandomCodeVerifier() : null;
    const sealed = verifier ? (await this.deps.keyring.encrypt(this.deps.db, this.verifierRef(session), verifier)).ciphertext : null;
    // Single use: only the first opening of a link claims it.
    const claimed = await this.deps.db
      .updateTable('connect_sessions')
      .set({ opened_at: now.toISOString(), state_hash: hash(state), verifier: sealed })
      .where('uid', '=', session.uid)
      .where('opened_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return this.finish(session, 'invalid_session', { alreadyCompleted: true });

    const url = new URL(settings.authorizationUrl);
    for (const [k, v] of Object.entries(settings.authorizationParams)) url.searchParams.set(k, v);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', settings.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    if (settings.scopes.length > 0) url.searchParams.set('scope', settings.scopes.join(settings.scopeSeparator));
    url.searchParams.set('state', state);
    if (verifier) {
      url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return { kind: 'redirect', location: url.toString() };
  }

  /** `GET /oauth/callback`: checks the state once, exchanges the code and stores the connection. */
  async callback(params: URLSearchParams): Promise<ConnectOutcome> {
    const state = params.get('state');
    if (!state || state.length > 512) return page(400, 'Invalid sign-in response', 'This page was opened without a valid sign-in state. Start again from the application.');
    const session = await this.deps.db.selectFrom('connect_sessions').selectAll().where('state_hash', '=', hash(state)).executeTakeFirst();
    if (!session) return page(400, 'Invalid sign-in response', 'This sign-in attempt is unknown. Start again from the application.');
    const now = this.clock();
    // Single use: the first callback with this state claims it; a replay finds it taken.
    const claimed = await this.deps.db
      .updateTable('connect_sessions')
      .set({ completed_at: now.toISOString(), outcome: 'pending' })
      .where('uid', '=', session.uid)
      .where('completed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return this.redirectBack(session, { status: 'error', error: 'invalid_state' });
    if (Date.parse(session.expires_at) <= now.getTime()) return this.finish(session, 'expired_session');

    const providerError = params.get('error');
    if (providerError) return this.finish(session, providerError === 'access_denied' ? 'access_denied' : 'provider_error');
    if (!params.get('code')) return this.finish(session, 'provider_error');

    const integration = await this.deps.db.selectFrom('integrations').selectAll().where('uid', '=', session.integration_uid).executeTakeFirst();
    if (!integration || integration.enabled !== 1) return this.finish(session, 'misconfigured');
    let tokens: TokenSet;
    try {
      const verifier = session.verifier ? await this.deps.keyring.decrypt(this.deps.db, this.verifierRef(session), session.verifier) : null;
      const endpoint = await this.deps.tokens.endpointFor(integration);
      tokens = await endpoint.exchangeCode(params.get('code')!, state, this.redirectUri, verifier);
    } catch (error) {
      const reason = error instanceof GrantFailure ? error.reason : 'internal';
      this.deps.logger?.warn({ session: session.uid, reason, error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown' }, 'connect: code exchange failed');
      return this.finish(session, 'exchange_failed', { reason });
    }
    const connection = await this.storeConnection(session, integration, tokens);
    return this.redirectBack(session, { status: 'success', connectionId: connection.id });
  }

  /** Deletes sessions that expired more than a day ago (kept that long for support questions). */
  async purgeExpired(): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - 24 * 3600_000).toISOString();
    const result = await this.deps.db.deleteFrom('connect_sessions').where('expires_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private verifierRef(session: ConnectSessionTable) {
    return { tenantId: session.tenant_id, kind: 'connect_session' as const, uid: session.uid, field: 'codeVerifier' };
  }

  /** Creates or updates the session's connection with the new tokens, audited, in one transaction. */
  private async storeConnection(session: ConnectSessionTable, integration: IntegrationTable, tokens: TokenSet): Promise<ConnectionTable> {
    const now = this.clock();
    const at = now.toISOString();
    const metadata = JSON.parse(session.metadata) as Record<string, unknown> | null;
    return this.deps.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('connections').selectAll().where('integration_uid', '=', integration.uid).where('id', '=', session.connection_id).executeTakeFirst();
      const set: Record<string, string> = { accessToken: tokens.accessToken, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) };
      let row: ConnectionTable;
      if (existing) {
        // A reconnect replaces the credentials; a provider that sends no new refresh token
        // (Google after the first consent) leaves the stored one in place.
        const stored = await this.deps.secrets.names(trx, existing.uid);
        const remove = existing.credential_type === 'oauth2' ? [] : [...stored].filter((n) => !(n in set) && n !== 'refreshToken');
        await this.deps.secrets.apply(trx, existing.tenant_id, 'connection', existing.uid, { set, remove, resulting: new Set([...stored, ...Object.keys(set)]) }, at);
        await trx
          .updateTable('connections')
          .set((eb) => ({
            ...tokenColumns(tokens, at),
            refresh_failures: 0,
            next_refresh_at: null,
            ...(metadata ? { metadata: JSON.stringify(metadata) } : {}),
            updated_at: at,
            updated_by: session.created_by,
            version: eb('version', '+', 1),
          }))
          .where('uid', '=', existing.uid)
          .execute();
        row = existing;
      } else {
        row = {
          uid: newId('con', now.getTime()),
          tenant_id: session.tenant_id,
          integration_uid: integration.uid,
          integration_key: integration.key,
          id: session.connection_id,
          provider: integration.provider,
          config: '{}',
          metadata: JSON.stringify(metadata ?? {}),
          labels: '{}',
          enabled: 1,
          ...tokenColumns(tokens, at),
          health: null,
          created_at: at,
          updated_at: at,
          created_by: session.created_by,
          updated_by: session.created_by,
          version: 1,
        };
        await trx.insertInto('connections').values(row).execute();
        await this.deps.secrets.apply(trx, row.tenant_id, 'connection', row.uid, { set, remove: [], resulting: new Set(Object.keys(set)) }, at);
      }
      await trx.updateTable('connect_sessions').set({ outcome: 'success', verifier: null }).where('uid', '=', session.uid).execute();
      await this.deps.audit.append(trx, {
        tenantId: session.tenant_id,
        at: now,
        actor: { type: 'system', keyId: session.created_by, userId: null },
        action: 'connect.session.complete',
        resource: { type: 'connection', id: `${integration.key}/${session.connection_id}` },
        outcome: 'success',
        status: existing ? 200 : 201,
        requestId: null,
        ip: null,
        changes: { fields: existing ? ['credentials.expiresAt', 'status'] : ['credentials.type', 'metadata'], secretsChanged: Object.keys(set).sort() },
      });
      await this.deps.onEvent?.(trx, session.tenant_id, {
        type: existing ? 'connection.updated' : 'connection.created',
        data: {
          via: 'connect_session',
          integration: integration.key,
          connectionId: row.id,
          connectionUid: row.uid,
          provider: integration.provider,
          status: 'active',
          statusReason: null,
        } satisfies ConnectionEventData,
      });
      return row;
    });
  }

  /** Records a failed flow (audited) and sends the user back with the error code. */
  private async finish(session: ConnectSessionTable, error: ConnectErrorCode, detail: { reason?: string; alreadyCompleted?: boolean } = {}): Promise<ConnectOutcome> {
    if (!detail.alreadyCompleted) {
      const now = this.clock();
      await this.deps.db.transaction().execute(async (trx) => {
        await trx.updateTable('connect_sessions').set({ completed_at: now.toISOString(), outcome: error, verifier: null }).where('uid', '=', session.uid).execute();
        await this.deps.audit.append(trx, {
          tenantId: session.tenant_id,
          at: now,
          actor: { type: 'system', keyId: session.created_by, userId: null },
          action: 'connect.session.complete',
          resource: { type: 'connection', id: `${session.integration_key}/${session.connection_id}` },
          outcome: 'error',
          status: 400,
          requestId: null,
          ip: null,
          changes: null,
        });
      });
    }
    return this.redirectBack(session, { status: 'error', error });
  }

  private redirectBack(session: ConnectSessionTable, result: Record<string, string>): ConnectOutcome {
    if (!session.redirect_url) {
      return result.status === 'success'
        ? page(200, 'Connected', 'The account is connected. You can close this window.')
        : page(400, 'Connection failed', `The account could not be connected (${result.error}). Close this window and try again from the application.`);
    }
    const url = new URL(session.redirect_url);
    for (const [k, v] of Object.entries(result)) url.searchParams.set(k, v);
    return { kind: 'redirect', location: url.toString() };
  }
}

/** The connection columns a completed connect flow sets, on a new connection or a reconnect. */
const tokenColumns = (tokens: TokenSet, at: string) => ({
  credential_type: 'oauth2',
  expires_at: tokens.expiresAt,
  scopes: tokens.scopes ? JSON.stringify(tokens.scopes) : null,
  token_type: tokens.tokenType,
  last_refreshed_at: at,
  status: 'active',
  status_reason: null,
});

const page = (status: number, title: string, message: string): ConnectOutcome => ({ kind: 'page', status, title, message });
const invalidLink = () => page(404, 'Link not valid', 'This connect link is not valid. Ask the application for a new one.');
