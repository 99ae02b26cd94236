import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { AuditInput } from '../audit/audit-log.js';
import type { Principal } from '../contracts/context.js';
import { ProxyRequest } from '../contracts/integrations/proxy-contract.js';
import type { Services } from '../domain/services.js';
import { loadConnectionTarget } from '../domain/connections/connection-target.js';
import { LatchkeyError, statusOf } from '../errors.js';
import { type ProxyAddress, parseProxyUrl, upstreamTarget } from './proxy-path.js';
import { type ProxyCaller, type ProxyConnection, applyCredentials, proxyBaseUrl, proxyConnection, proxyCredentials, signsRequests, usesOAuth } from './proxy-credentials.js';
import { forwardedRequestHeaders, returnedResponseHeaders } from './proxy-headers.js';
import { NOTHING_SENT, type SentCredentials } from './response-scrub.js';
import { type ProxyBody, formBodyToSign, isReplayable, readProxyBody } from './request-body.js';
import type { AuditGroupCommit } from '../audit/audit-group-commit.js';
import type { UpstreamAgents } from './upstream-agents.js';
import { sendUpstream } from './upstream-request.js';

export interface ProxyOptions {
  /** Longest the provider may stay silent before 504 (or, mid-body, before the stream is cut), and longest its response head may take. */
  timeoutMs: number;
  /** Largest request body forwarded. */
  bodyLimitBytes: number;
}

/** One incoming proxy call, as the HTTP surface hands it over (no framework types). */
export interface ProxyCall {
  principal: Principal;
  requestId: string;
  ip: string | null;
  method: string;
  /** The raw request target, exactly as received. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  /** The unread request body stream. */
  body: IncomingMessage;
  /** Fires when the caller goes away. */
  signal: AbortSignal;
}

/** The provider's answer, ready to relay: status, filtered headers and the unread body. */
export interface ProxyResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: IncomingMessage;
}

const USE_POLICIES = ProxyRequest.policy.policies;

/**
 * The proxy's pipeline, mirroring the registry's for a streaming operation: authorize
 * (deny by default, denied calls audited) → read the address from the raw URL → load the
 * connection the caller may see → inject credentials → forward → on a 401 from an OAuth
 * provider refresh once and retry once (replayable bodies only) → audit → relay.
 *
 * Every call after authentication is audited once, with the connection and the status the
 * caller gets, never the path, query or any credential. The audit event is committed before
 * the response is relayed: a caller never receives an answer whose use went unrecorded.
 * Concurrent calls share commits ({@link AuditGroupCommit}), so the per-tenant audit chain
 * does not cap the proxy at one disk flush per request.
 *
 * @example
 * ```ts
 * const proxy = new ProxyForwarder(services, agents, { timeoutMs: 30_000, bodyLimitBytes: 100 << 20 });
 * const res = await proxy.forward({ principal, requestId, ip, method: 'GET', rawUrl, headers, body: req, signal });
 * ```
 */
export class ProxyForwarder {
  private readonly auditLog: AuditGroupCommit;

  constructor(
    private readonly services: Services,
    private readonly agents: UpstreamAgents,
    private readonly opts: ProxyOptions,
  ) {
    this.auditLog = services.auditCommit;
  }

  async forward(call: ProxyCall): Promise<ProxyResponse> {
    const now = new Date();
    let address: ProxyAddress | null = null;
    try {
      address = parseProxyUrl(call.rawUrl);
    } catch (error) {
      // Parsing needs no data, so an unauthorised caller still gets its 403 first.
      if (this.denied(call)) return this.deny(call, now, null);
      await this.audit(call, now, null, 'error', error instanceof LatchkeyError ? statusOf(error.code) : 400);
      throw error;
    }
    if (this.denied(call)) return this.deny(call, now, address);
    try {
      const response = await this.forwardAllowed(call, address);
      try {
        await this.audit(call, now, address, 'success', response.status, false);
      } catch (error) {
        response.body.destroy();
        throw error;
      }
      return response;
    } catch (error) {
      const status = error instanceof LatchkeyError ? statusOf(error.code) : 500;
      await this.audit(call, now, address, error instanceof LatchkeyError && error.code === 'forbidden' ? 'denied' : 'error', status);
      throw error;
    }
  }

  private denied(call: ProxyCall): boolean {
    return USE_POLICIES.some((p) => !call.principal.grants.has(p.key));
  }

  private async deny(call: ProxyCall, now: Date, address: ProxyAddress | null): Promise<never> {
    await this.audit(call, now, address, 'denied', 403, false);
    throw new LatchkeyError('forbidden', `this key lacks the policy ${USE_POLICIES.map((p) => p.key).join(', ')}`);
  }

  private async forwardAllowed(call: ProxyCall, address: ProxyAddress): Promise<ProxyResponse> {
    const { services, opts } = this;
    const { integration, row } = await loadConnectionTarget(services.store.db, call.principal, address.key, address.id);
    const conn = proxyConnection(services, integration, row);
    const { url, requestTarget } = upstreamTarget(proxyBaseUrl(conn), address);
    const pool = this.agents.for(integration.uid, integration.network_allow_list);
    const caller: ProxyCaller = { actor: { type: 'api_key', keyId: call.principal.keyId, userId: call.principal.userId }, requestId: call.requestId };

    const body = await readProxyBody(call.body, opts.bodyLimitBytes);
    // Checked before anything is sent: a form body an OAuth 1.0a signature cannot cover is refused.
    const formBody = signsRequests(conn) ? formBodyToSign(call.headers, body) : null;
    // Everything injected into any attempt: none of it may come back in a response header.
    let sent: SentCredentials = NOTHING_SENT;
    const send = async (credentials: Awaited<ReturnType<typeof proxyCredentials>>) => {
      const headers = forwardedRequestHeaders(call.headers);
      const length = bodyLength(body);
      if (length !== null) headers['content-length'] = String(length);
      // Per send: a re-sent request is signed again (fresh nonce and timestamp).
      const applied = applyCredentials(conn, credentials, { method: call.method, url, requestTarget, formBody }, headers);
      sent = { queryParam: applied.sent.queryParam, values: [...new Set([...sent.values, ...applied.sent.values])] };
      const target = applied.requestTarget;
      return sendUpstream({
        method: call.method,
        url,
        requestTarget: target,
        headers,
        body,
        guard: pool.guard,
        agent: url.protocol === 'https:' ? pool.https : pool.http,
        timeoutMs: opts.timeoutMs,
        signal: call.signal,
      });
    };

    const credentials = await proxyCredentials(services, conn, caller);
    let response = await send(credentials);
    if (response.statusCode === 401 && usesOAuth(conn) && isReplayable(body)) {
      // The provider no longer takes the token: refresh once (single-flight) and try once more.
      response.resume();
      response = await send(await this.renewedCredentials(conn, caller, credentials.fields.accessToken));
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 599) {
      // Node parses any three digits; HTTP (and Fastify) know 1xx–5xx, and a final 1xx is not an answer.
      response.destroy();
      throw new LatchkeyError('upstream_failed', `the provider answered with an invalid status (${status})`, { reason: 'upstream_invalid_response' });
    }
    return { status, headers: returnedResponseHeaders(response.headers, sent), body: response };
  }

  /**
   * After a 401: a token another request has already refreshed is used as it is; only when
   * the stored token is still the refused one is a refresh forced.
   */
  private async renewedCredentials(conn: ProxyConnection, caller: ProxyCaller, refused: unknown) {
    const row = await this.services.store.db.selectFrom('connections').selectAll().where('uid', '=', conn.row.uid).executeTakeFirst();
    if (!row) throw new LatchkeyError('not_found', `Connection "${conn.row.id}" of integration "${conn.integration.key}" was not found`);
    const current: ProxyConnection = { ...conn, row };
    const stored = await proxyCredentials(this.services, current, caller);
    if (stored.fields.accessToken !== refused) return stored;
    return proxyCredentials(this.services, current, caller, { force: true });
  }

  private async audit(call: ProxyCall, now: Date, address: ProxyAddress | null, outcome: AuditInput['outcome'], status: number, bestEffort = true): Promise<void> {
    const event: AuditInput = {
      tenantId: call.principal.tenantId,
      at: now,
      actor: { type: 'api_key', keyId: call.principal.keyId, userId: call.principal.userId },
      action: ProxyRequest.meta.key,
      resource: address ? { type: 'connection', id: `${address.key}/${address.id}` } : null,
      outcome,
      status,
      requestId: call.requestId,
      ip: call.ip,
      changes: null,
    };
    const written = this.auditLog.write(event);
    // A failed call is already failing: its audit is best effort (as in the registry). A
    // successful one is not relayed unless its event was written (fail-closed).
    if (bestEffort) await written.catch(() => undefined);
    else await written;
  }
}

/** The Content-Length to send: the buffered size, or the caller's declared one for a sized stream. */
function bodyLength(body: ProxyBody): number | null {
  if (body.kind === 'buffered') return body.data.length;
  if (body.kind === 'none') return body.declaredLength === 0 ? 0 : null;
  return body.declaredLength;
}
