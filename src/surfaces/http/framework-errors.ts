import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { LatchkeyError } from '../../errors.js';
import { toProblem } from './problem.js';

const DETAIL: Record<string, string> = {
  FST_ERR_BAD_URL: 'the URL is not valid (a percent-escape does not decode to UTF-8)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is longer than any identifier this API accepts',
};

/**
 * Fastify's router answers a URL it cannot decode, or a path parameter over
 * `maxParamLength`, before any route or hook runs — by default with its own JSON, not a
 * problem. This makes those answers RFC 9457 problems (400) like every other refusal,
 * with the request id and security headers the `onRequest` hook would have set.
 *
 * @example
 * ```ts
 * Fastify({ frameworkErrors: frameworkErrorHandler(API_HEADERS) });
 * ```
 */
export function frameworkErrorHandler(headers: Record<string, string>) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const detail = DETAIL[error.code] ?? 'the request could not be routed';
    // The raw path is not echoed: it is what failed to decode.
    const problem = toProblem(new LatchkeyError('bad_request', detail), '/', request.id);
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    reply.header('x-request-id', request.id).code(problem.status).type('application/problem+json').send(problem);
  };
}

const CLIENT_ERROR_DETAIL: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'the request line and headers are larger than the server accepts',
  ERR_HTTP_REQUEST_TIMEOUT: 'the request was not received in time',
};

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (bytes that are not
 * valid HTTP, headers over the size limit, a request that never finishes). Fastify's
 * default answer is its own JSON; this answers with a problem (400 `bad_request`) and the
 * security headers instead, then closes the connection as Node would.
 *
 * @example
 * ```ts
 * Fastify({ clientErrorHandler: clientErrorHandler(API_HEADERS) });
 * ```
 */
export function clientErrorHandler(headers: Record<string, string>) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    // A reset connection has no one left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (socket.writable) {
      const requestId = randomUUID();
      const detail = CLIENT_ERROR_DETAIL[error.code ?? ''] ?? 'the request is not valid HTTP';
      const body = JSON.stringify(toProblem(new LatchkeyError('bad_request', detail), '/', requestId));
      const lines = [
        'HTTP/1.1 400 Bad Request',
        'content-type: application/problem+json',
        `content-length: ${Buffer.byteLength(body)}`,
        `x-request-id: ${requestId}`,
        'connection: close',
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ];
      // A HEAD request's answer has no body (RFC 9110 §9.3.2), even when the rest of its
      // request line could not be parsed: the client would read the body as a next response.
      const head = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
      socket.write(`${lines.join('\r\n')}\r\n\r\n${head ? '' : body}`);
    }
    socket.destroy(error);
  };
}
