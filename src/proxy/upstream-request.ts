import { type Agent, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { LatchkeyError } from '../errors.js';
import type { OutboundGuard } from '../net/outbound-guard.js';
import { classifyNetworkError } from '../testers/network-errors.js';
import { BodyLimit, type ProxyBody, isReplayable } from './request-body.js';

export interface UpstreamRequest {
  method: string;
  /** Origin and host of the request (its query may hold an injected credential: never log it). */
  url: URL;
  /** The exact request target (path and query) to send. */
  requestTarget: string;
  headers: OutgoingHttpHeaders;
  body: ProxyBody;
  guard: OutboundGuard;
  agent: Agent;
  /**
   * Longest the upstream socket may stay silent (connect, answer, body) before the request
   * fails, and the longest the response head (status and headers) may take in all.
   */
  timeoutMs: number;
  /** Fires when the caller has gone away: the upstream request is abandoned. */
  signal: AbortSignal;
}

/** Why an upstream request failed before its response arrived. */
class UpstreamFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

const RESET = new Set(['ECONNRESET', 'EPIPE']);

/**
 * A problem for a failed upstream request, built from the error's code only: Node's
 * messages name hosts and addresses, never the path or query, but the proxy does not
 * depend on that (an injected query credential must never reach a caller or a log).
 */
export function upstreamProblem(error: unknown, timeoutMs: number): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  if (error instanceof UpstreamFailure && error.kind === 'aborted') {
    return new LatchkeyError('upstream_failed', 'the caller closed the connection before the provider answered', { reason: 'caller_gone' });
  }
  if (error instanceof UpstreamFailure && error.kind === 'timeout') {
    return new LatchkeyError('upstream_timeout', `the provider did not answer within ${timeoutMs} ms`, { reason: 'upstream_timeout' });
  }
  const failure = classifyNetworkError(error);
  switch (failure?.code) {
    case 'destination_refused':
      // The guard's message names the host, the address category and the remedy.
      return new LatchkeyError('upstream_failed', (error as Error).message, { reason: 'destination_refused' });
    case 'timeout':
      return new LatchkeyError('upstream_timeout', 'the connection to the provider timed out', { reason: 'upstream_timeout' });
    case 'dns_failed':
      return new LatchkeyError('upstream_failed', 'the provider\'s host name could not be resolved', { reason: 'dns_failed' });
    case 'tls_failed':
      return new LatchkeyError('upstream_failed', 'the TLS handshake with the provider failed', { reason: 'tls_failed' });
    case 'host_unreachable': {
      const code = (error as { code?: string }).code;
      return new LatchkeyError('upstream_failed', `the provider could not be reached${code ? ` (${code})` : ''}`, { reason: 'upstream_unreachable' });
    }
    default: {
      const code = (error as { code?: unknown } | null)?.code;
      return new LatchkeyError('upstream_failed', `the request to the provider failed${typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? ` (${code})` : ''}`, {
        reason: 'upstream_failed',
      });
    }
  }
}

function writeBody(outgoing: ClientRequest, body: ProxyBody, fail: (error: unknown) => void): void {
  switch (body.kind) {
    case 'none':
      outgoing.end();
      return;
    case 'buffered':
      outgoing.end(body.data);
      return;
    case 'stream': {
      // Not `pipeline`: on failure it would destroy the caller's request too, and with it
      // the socket the 413 (or 502) has to be written to.
      const source = body.declaredLength === null ? body.source.pipe(new BodyLimit(body.limitBytes)) : body.source;
      const stop = (error: unknown) => {
        body.source.unpipe();
        outgoing.destroy();
        fail(error);
      };
      source.on('error', stop);
      if (source !== body.source) body.source.on('error', stop);
      source.pipe(outgoing);
      return;
    }
  }
}

function sendOnce(req: UpstreamRequest): Promise<{ response: IncomingMessage } | { error: unknown; reusedSocket: boolean }> {
  const options = urlToHttpOptions(req.url);
  const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    let headDeadline: NodeJS.Timeout | undefined;
    const settle = (value: { response: IncomingMessage } | { error: unknown; reusedSocket: boolean }) => {
      clearTimeout(headDeadline);
      if (settled) return;
      settled = true;
      req.signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const outgoing = send({
      protocol: options.protocol,
      hostname: options.hostname,
      port: options.port,
      path: req.requestTarget,
      method: req.method,
      headers: req.headers,
      agent: req.agent,
      lookup: req.guard.lookup,
      timeout: req.timeoutMs,
    });
    const onAbort = () => outgoing.destroy(new UpstreamFailure('aborted', 'the caller went away'));
    req.signal.addEventListener('abort', onAbort, { once: true });
    const timedOut = () => outgoing.destroy(new UpstreamFailure('timeout', `no answer within ${req.timeoutMs} ms`));
    // The socket timeout keeps running while the response streams: a provider that stalls
    // mid-body is cut off too (the caller sees the connection close).
    outgoing.on('timeout', timedOut);
    // The socket timeout is an idle timer: a provider sending one byte of its head now and
    // then would hold the request forever. The head (status and headers) gets one deadline,
    // counted from the start, or for a streamed body from its last byte sent (an upload may
    // rightly take longer than the timeout; the idle timer still watches it).
    const startHeadDeadline = () => {
      if (!settled) headDeadline = setTimeout(timedOut, req.timeoutMs);
    };
    if (req.body.kind === 'stream') outgoing.once('finish', startHeadDeadline);
    else startHeadDeadline();
    outgoing.on('error', (error) => settle({ error, reusedSocket: outgoing.reusedSocket }));
    outgoing.on('response', (response) => settle({ response }));
    writeBody(outgoing, req.body, (error) => settle({ error, reusedSocket: false }));
  });
}

/**
 * Sends one request to the provider with node:http(s) through the outbound guard (its
 * `lookup` decides the address connected to; IP literals are checked first) and resolves
 * with the response head as soon as it arrives; the body is left to stream. Redirects are
 * never followed. A pooled keep-alive socket the provider closed just as it was reused is
 * retried once on a fresh one, when the body can be sent again. Rejects with a
 * `LatchkeyError`: 502 `upstream_failed`, or 504 `upstream_timeout` when the socket stays
 * silent for `timeoutMs` or the response head takes longer than that in all.
 *
 * @example
 * ```ts
 * const res = await sendUpstream({ method: 'GET', url, requestTarget: '/v1/charges', headers, body: { kind: 'none', declaredLength: null }, guard, agent, timeoutMs: 30_000, signal });
 * ```
 */
export async function sendUpstream(req: UpstreamRequest): Promise<IncomingMessage> {
  if (req.url.protocol !== 'http:' && req.url.protocol !== 'https:') throw new LatchkeyError('conflict', `the provider's base URL uses ${req.url.protocol}; the proxy speaks http and https`, { reason: 'proxy_misconfigured' });
  try {
    req.guard.preflight(urlToHttpOptions(req.url).hostname ?? req.url.hostname);
  } catch (error) {
    throw upstreamProblem(error, req.timeoutMs);
  }
  for (let attempt = 1; ; attempt++) {
    const outcome = await sendOnce(req);
    if ('response' in outcome) return outcome.response;
    const code = (outcome.error as { code?: string }).code ?? '';
    const staleSocket = outcome.reusedSocket && (RESET.has(code) || (outcome.error as Error).message === 'socket hang up');
    // Sent again as it was: an OAuth 1.0a signature keeps its nonce, so a provider that did
    // see the first attempt refuses this one as a replay instead of acting on it twice.
    if (staleSocket && attempt === 1 && isReplayable(req.body) && !req.signal.aborted) continue;
    throw upstreamProblem(outcome.error, req.timeoutMs);
  }
}
