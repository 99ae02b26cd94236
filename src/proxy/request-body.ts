import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
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

const FORM = 'application/x-www-form-urlencoded';

/**
 * The form body an OAuth 1.0a signature must cover (RFC 5849 §3.4.1.3.1: the parameters
 * of a single-part `application/x-www-form-urlencoded` body are signed with the query's),
 * or `null` when the body is not a form or there is none.
 *
 * Why a limit: the proxy streams bodies, but a signature over form parameters needs the
 * whole body before the first byte goes out. Form bodies the proxy already buffers (a
 * `Content-Length` of at most {@link REPLAYABLE_BODY_BYTES}) are signed; a larger or
 * chunked form body is refused with 413 (`proxy_oauth1_form_body`) before anything is sent,
 * rather than sent with a signature the provider would reject. Other bodies (JSON, files)
 * are not signed and stream as always.
 *
 * @example
 * ```ts
 * formBodyToSign({ 'content-type': 'application/x-www-form-urlencoded' }, { kind: 'buffered', data: Buffer.from('status=hi') });
 * // Buffer 'status=hi'
 * ```
 */
export function formBodyToSign(headers: IncomingHttpHeaders, body: ProxyBody): Buffer | null {
  const mediaType = headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== FORM || body.kind === 'none') return null;
  if (body.kind === 'buffered') return body.data;
  throw new LatchkeyError(
    'payload_too_large',
    `an OAuth 1.0a signature covers a form-encoded body, so the proxy reads it whole first: send it with a Content-Length of at most ${REPLAYABLE_BODY_BYTES} bytes`,
    { reason: 'proxy_oauth1_form_body' },
  );
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
