import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { LatchkeyError } from '../errors.js';

/** Bodies up to this size are buffered, so a request can be sent again after a token refresh. */
export const REPLAYABLE_BODY_BYTES = 64 * 1024;

/**
 * The request body as the proxy forwards it:
 * - `none`: no body (sent as such; replayable);
 * - `buffered`: a small body read in full (replayable);
 * - `stream`: a larger or unsized body, piped through once, never held in memory.
 */
export type ProxyBody =
  | { kind: 'none'; declaredLength: number | null }
  | { kind: 'buffered'; data: Buffer }
  | { kind: 'stream'; source: IncomingMessage; declaredLength: number | null; limitBytes: number };

export const isReplayable = (body: ProxyBody): boolean => body.kind !== 'stream';

export function tooLarge(limitBytes: number): LatchkeyError {
  return new LatchkeyError('payload_too_large', `the request body is larger than the proxy accepts (${limitBytes} bytes)`, { reason: 'proxy_body_too_large' });
}

/**
 * Decides how to forward the body of `req`: nothing, a buffer (≤ 64 KiB with a declared
 * length), or a stream. A declared length over `limitBytes` is refused (413) before
 * anything is read or sent; an unsized (chunked) body is counted as it streams.
 *
 * @example
 * ```ts
 * const body = await readProxyBody(request.raw, 100 * 1024 * 1024);
 * if (body.kind === 'buffered') outgoing.end(body.data);
 * ```
 */
export async function readProxyBody(req: IncomingMessage, limitBytes: number): Promise<ProxyBody> {
  const lengthHeader = req.headers['content-length'];
  const declaredLength = lengthHeader === undefined ? null : Number(lengthHeader);
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (declaredLength !== null && declaredLength > limitBytes) throw tooLarge(limitBytes);
  if (!chunked && (declaredLength === null || declaredLength === 0)) return { kind: 'none', declaredLength };
  if (!chunked && declaredLength !== null && declaredLength <= REPLAYABLE_BODY_BYTES) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return { kind: 'buffered', data: Buffer.concat(chunks) };
  }
  return { kind: 'stream', source: req, declaredLength: chunked ? null : declaredLength, limitBytes };
}

/**
 * Counts bytes on their way through and fails the stream once they pass `limitBytes` (an
 * unsized body has no length to refuse up front).
 */
export class BodyLimit extends Transform {
  private seen = 0;
  exceeded = false;

  constructor(private readonly limitBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limitBytes) {
      this.exceeded = true;
      callback(tooLarge(this.limitBytes));
      return;
    }
    callback(null, chunk);
  }
}
