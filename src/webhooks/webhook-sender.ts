import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { OutboundGuard } from '../net/outbound-guard.js';
import { classifyNetworkError } from '../testers/network-errors.js';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  guard: OutboundGuard;
  /** The whole attempt (connect, send, answer) must finish within this. */
  timeoutMs: number;
  /** Aborts the attempt (the dispatcher stopping). */
  signal?: AbortSignal;
}

/** The outcome of one attempt. `error` is a stable code and a message naming no secret. */
export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: { code: string; message: string } | null;
  durationMs: number;
}

/** How much of a receiver's answer is read (and thrown away) before the socket is closed. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs one webhook through the outbound guard: the guard's `lookup` picks the address
 * actually connected to (no DNS-rebinding gap) and IP literals are checked first. A 2xx is
 * success; a redirect is a failure and is never followed (it could point anywhere, e.g.
 * at a private address); anything else, a timeout or a network error is a failure to retry.
 *
 * @example
 * ```ts
 * const outcome = await sendWebhook({ url, headers, body, guard, timeoutMs: 10_000 });
 * if (!outcome.ok) console.log(outcome.statusCode, outcome.error?.code);
 * ```
 */
export function sendWebhook(req: WebhookRequest): Promise<AttemptOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const fail = (code: string, message: string, statusCode: number | null = null): AttemptOutcome => ({ ok: false, statusCode, error: { code, message }, durationMs: elapsed() });
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.resolve(fail('invalid_url', 'the endpoint URL is not valid'));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve(fail('invalid_url', `unsupported URL scheme ${url.protocol}`));
  const options = urlToHttpOptions(url);
  try {
    req.guard.preflight(options.hostname ?? url.hostname);
  } catch (error) {
    return Promise.resolve(fail('destination_refused', (error as Error).message));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = Buffer.from(req.body, 'utf8');

  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      outgoing.destroy();
      resolve(outcome);
    };
    const outgoing = send({
      ...options,
      auth: null,
      method: 'POST',
      headers: { ...req.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
      lookup: req.guard.lookup,
      agent: false, // a fresh socket each time: never one pooled to an address checked earlier
    });
    const timer = setTimeout(() => finish(fail('timeout', `no answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    const onAbort = () => finish(fail('aborted', 'the dispatcher stopped before the receiver answered'));
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error) => {
      const classified = classifyNetworkError(error);
      finish(classified ? fail(classified.code, classified.message) : fail('network_error', 'the request failed'));
    });
    outgoing.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      const done = () => {
        if (status >= 200 && status < 300) finish({ ok: true, statusCode: status, error: null, durationMs: elapsed() });
        else if (status >= 300 && status < 400) finish(fail('redirect_not_followed', `the receiver answered ${status}; redirects are not followed`, status));
        else finish(fail('unexpected_status', `the receiver answered ${status}`, status));
      };
      // The answer's content is not kept (it is the receiver's, and could be anything).
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) done();
      });
      res.on('end', done);
      res.on('error', done);
    });
    outgoing.end(body);
  });
}
