import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

/**
 * The cookie that binds a flow to the browser that opened its link (RFC 9700 §4.7): set
 * when the link is opened, required and cleared on the callback. An empty `value` with
 * `maxAgeSeconds: 0` clears it. The HTTP surface adds `HttpOnly`, `SameSite=Lax` and, for
 * an https public URL, `Secure`.
 */
export interface BrowserBindingCookie {
  name: string;
  value: string;
  path: string;
  maxAgeSeconds: number;
}

/** Where the end user goes next: a redirect, or a page when there is nowhere to send them. */
export type ConnectOutcome = (
  | { kind: 'redirect'; location: string }
  | { kind: 'page'; status: number; title: string; message: string }
) & { cookie?: BrowserBindingCookie };

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
  /** Where failed exchanges and refused callbacks are reported (reason codes and messages only, never bodies or cookies). */
  logger?: { warn(obj: object, msg: string): void };
  /** Lifecycle events (`connection.created` / `connection.updated`) in the same transaction. */
  onEvent?: (trx: Kysely<Database>, tenantId: string, event: { type: 'connection.created' | 'connection.updated'; data: ConnectionEventData }) => Promise<void>;
}

const hash = (value: string) => createHash('sha256').update(value).digest('hex');
const TOKEN_PREFIX = 'lkc_';
const BINDING_COOKIE_PREFIX = 'lk_connect_';

/**
 * The OAuth connect flow (SPEC section 6). An application creates a session and hands
 * its one-time URL to the end user; opening it sends them to the provider with `state`
 * and PKCE; the callback checks the single-use, expiring state, exchanges the code and
 * stores the tokens as a connection, then sends the user back to the application.
 *
 * The state alone would let anyone who opened a link forward the provider's authorization
 * URL to someone else and collect their account under the link's connection, so opening a
 * link also sets a random cookie in that browser, and the callback refuses a state that
 * arrives without it. The cookie is named per session: one browser may run several flows.
 *
 * Only hashes of the session token, the state and the cookie are stored (they are bearer
 * values with nothing to recover), and the PKCE verifier is encrypted under the tenant's
 * data key.
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
        binding_hash: null,
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

  /**
   * `GET /connect/{token}`: consumes the token and sends the user to the provider, with
   * the browser-binding cookie to set.
   */
  async open(token: string): Promise<ConnectOutcome> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return invalidLink();
    const session = await this.deps.db.selectFrom('connect_sessions').selectAll().where('token_hash', '=', hash(token)).executeTakeFirst();
    if (!session) return invalidLink();
    // A used link (opened, or already ended) changes nothing: its recorded outcome stands,
    // whatever the clock or the integration says now.
    if (session.opened_at !== null || session.completed_at !== null) return this.redirectBack(session, { status: 'error', error: 'invalid_session' });
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
    const binding = randomBytes(32).toString('base64url');
    const verifier = settings.pkce ? oauth.generateRandomCodeVerifier() : null;
    const sealed = verifier ? (await this.deps.keyring.encrypt(this.deps.db, this.verifierRef(session), verifier)).ciphertext : null;
    // Single use: only the first opening of a link claims it (and not one ended meanwhile).
    const claimed = await this.deps.db
      .updateTable('connect_sessions')
      .set({ opened_at: now.toISOString(), state_hash: hash(state), binding_hash: hash(binding), verifier: sealed })
      .where('uid', '=', session.uid)
      .where('opened_at', 'is', null)
      .where('completed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return this.redirectBack(session, { status: 'error', error: 'invalid_session' });

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
    const maxAgeSeconds = Math.max(1, Math.ceil((Date.parse(session.expires_at) - now.getTime()) / 1000));
    return { kind: 'redirect', location: url.toString(), cookie: { ...this.bindingCookie(session), value: binding, maxAgeSeconds } };
  }

  /**
   * `GET /oauth/callback`: checks the state once and that it came back to the browser that
   * opened the link (`cookies`: the request's cookies by name), exchanges the code and
   * stores the connection. Clears the binding cookie whatever the outcome.
   */
  async callback(params: URLSearchParams, cookies: ReadonlyMap<string, string>): Promise<ConnectOutcome> {
    const outcome = await this.complete(params, cookies);
    return outcome.session ? { ...outcome.result, cookie: { ...this.bindingCookie(outcome.session), value: '', maxAgeSeconds: 0 } } : outcome.result;
  }

  /** Finds the session the state names; `session` is absent when there is none. */
  private async complete(params: URLSearchParams, cookies: ReadonlyMap<string, string>): Promise<{ result: ConnectOutcome; session?: ConnectSessionTable }> {
    const state = params.get('state');
    if (!state || state.length > 512) return { result: page(400, 'Invalid sign-in response', 'This page was opened without a valid sign-in state. Start again from the application.') };
    const session = await this.deps.db.selectFrom('connect_sessions').selectAll().where('state_hash', '=', hash(state)).executeTakeFirst();
    if (!session) return { result: page(400, 'Invalid sign-in response', 'This sign-in attempt is unknown. Start again from the application.') };
    return { result: await this.claimAndExchange(session, state, params, cookies.get(this.bindingCookie(session).name)), session };
  }

  /** Claims the session's callback once, checks the browser and the session, and exchanges the code. */
  private async claimAndExchange(session: ConnectSessionTable, state: string, params: URLSearchParams, binding: string | undefined): Promise<ConnectOutcome> {
    const now = this.clock();
    // Single use: the first callback with this state claims it; a replay finds it taken.
    const claimed = await this.deps.db
      .updateTable('connect_sessions')
      .set({ completed_at: now.toISOString(), outcome: 'pending' })
      .where('uid', '=', session.uid)
      .where('completed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return this.redirectBack(session, { status: 'error', error: 'invalid_state' });
    // A state that reached another browser (a forwarded authorization URL) ends the flow
    // before its code is used: the account behind it belongs to someone else.
    if (!this.boundTo(session, binding)) {
      this.deps.logger?.warn({ session: session.uid, reason: binding ? 'binding_mismatch' : 'binding_missing' }, 'connect: callback from a browser that did not open the link');
      return this.finish(session, 'invalid_session', { claimed: true });
    }
    if (Date.parse(session.expires_at) <= now.getTime()) return this.finish(session, 'expired_session', { claimed: true });

    const providerError = params.get('error');
    if (providerError) return this.finish(session, providerError === 'access_denied' ? 'access_denied' : 'provider_error', { claimed: true });
    if (!params.get('code')) return this.finish(session, 'provider_error', { claimed: true });

    const integration = await this.deps.db.selectFrom('integrations').selectAll().where('uid', '=', session.integration_uid).executeTakeFirst();
    if (!integration || integration.enabled !== 1) return this.finish(session, 'misconfigured', { claimed: true });
    let tokens: TokenSet;
    try {
      const verifier = session.verifier ? await this.deps.keyring.decrypt(this.deps.db, this.verifierRef(session), session.verifier) : null;
      const endpoint = await this.deps.tokens.endpointFor(integration);
      tokens = await endpoint.exchangeCode(params.get('code')!, state, this.redirectUri, verifier);
    } catch (error) {
      const reason = error instanceof GrantFailure ? error.reason : 'internal';
      this.deps.logger?.warn({ session: session.uid, reason, error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown' }, 'connect: code exchange failed');
      return this.finish(session, 'exchange_failed', { claimed: true, reason });
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

  /** The binding cookie's name and path for a session (the callback's path under the public URL). */
  private bindingCookie(session: ConnectSessionTable) {
    return { name: `${BINDING_COOKIE_PREFIX}${session.uid}`, path: new URL(this.redirectUri).pathname };
  }

  /** Whether the callback carries the cookie set when this session's link was opened. */
  private boundTo(session: ConnectSessionTable, binding: string | undefined): boolean {
    // A session opened before bindings existed has none to match: refused, like a mismatch.
    if (!binding || binding.length > 200 || !session.binding_hash) return false;
    return timingSafeEqual(Buffer.from(hash(binding), 'hex'), Buffer.from(session.binding_hash, 'hex'));
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

  /**
   * Records a failed flow (audited) and sends the user back with the error code. Only a
   * session still open ends here: one not yet completed, or (`claimed`) the one whose
   * callback this request claimed. A session that already has an outcome keeps it, and no
   * event is written.
   */
  private async finish(session: ConnectSessionTable, error: ConnectErrorCode, detail: { reason?: string; claimed?: boolean } = {}): Promise<ConnectOutcome> {
    const now = this.clock();
    await this.deps.db.transaction().execute(async (trx) => {
      const ended = await trx
        .updateTable('connect_sessions')
        .set({ completed_at: now.toISOString(), outcome: error, verifier: null })
        .where('uid', '=', session.uid)
        .where((eb) => (detail.claimed ? eb('outcome', '=', 'pending') : eb('completed_at', 'is', null)))
        .executeTakeFirst();
      if (Number(ended.numUpdatedRows) !== 1) return;
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
