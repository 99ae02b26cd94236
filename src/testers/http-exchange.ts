import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { OutboundGuard } from '../net/outbound-guard.js';
import { onAbort } from './target-config.js';
import { TestFailure } from './test-result.js';

export interface GuardedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  guard: OutboundGuard;
  signal: AbortSignal;
  timeoutMs: number;
  /** Bytes of body kept; the rest is drained and `truncated` set. */
  maxBodyBytes?: number;
  /** A request body (e.g. a form-encoded token request). */
  body?: string | Buffer;
}

export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
}

/**
 * One HTTP(S) request through the outbound guard, with node:http rather than `fetch` so the
 * guard's `lookup` decides the address actually connected to. Redirects are never followed:
 * a 3xx comes back as is (following one would let a provider bounce us to a private address,
 * and would resend the credentials to wherever it points).
 *
 * @example
 * ```ts
 * const res = await sendGuardedRequest({ method: 'GET', url, headers, guard, signal, timeoutMs: 5000 });
 * ```
 */
export function sendGuardedRequest(req: GuardedRequest): Promise<GuardedResponse> {
  const { url, guard, signal } = req;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TestFailure('misconfigured', `unsupported URL scheme ${url.protocol}`));
  if (url.username || url.password) return Promise.reject(new TestFailure('misconfigured', 'the URL must not contain credentials'));
  const options = urlToHttpOptions(url);
  try {
    guard.preflight(options.hostname ?? url.hostname);
  } catch (error) {
    return Promise.reject(error);
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const limit = req.maxBodyBytes ?? 1024 * 1024;

  return new Promise<GuardedResponse>((resolve, reject) => {
    const outgoing = send({
      ...options,
      method: req.method,
      headers: req.headers,
      lookup: guard.lookup,
      timeout: req.timeoutMs,
      agent: false, // a fresh socket per test: no pooled connection to a previously checked address
    });
    const release = onAbort(signal, () => outgoing.destroy(new TestFailure('timeout', 'the request was aborted')));
    outgoing.on('timeout', () => outgoing.destroy(new TestFailure('timeout', `no answer within ${req.timeoutMs} ms`)));
    outgoing.on('error', (error) => {
      release();
      reject(error);
    });
    outgoing.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (chunk: Buffer) => {
        const room = limit - size;
        if (chunk.length > room) truncated = true;
        if (room <= 0) return;
        chunks.push(chunk.subarray(0, room));
        size += Math.min(chunk.length, room);
      });
      res.on('error', (error) => {
        release();
        reject(error);
      });
      res.on('end', () => {
        release();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated });
      });
    });
    outgoing.end(req.body);
  });
}

/** The start of a response body as text, for a diagnostic message (scrubbed later). */
export function bodySnippet(body: Buffer, max = 2000): string {
  return body.subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim();
}
