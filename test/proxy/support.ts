import { createHash } from 'node:crypto';
import { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { expect } from 'vitest';
import type { TestServer } from '../support/harness.js';

/** One request as the upstream received it. */
export interface Seen {
  method: string;
  /** The raw request target, exactly as it arrived. */
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  sha256: string;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void | Promise<void>;

/** A plain node:http API on 127.0.0.1 standing in for a provider: records every request, answers with `handler`. */
export interface Upstream {
  url: string;
  port: number;
  seen: Seen[];
  /** Answers requests; by default echoes what it received as JSON. */
  handler: UpstreamHandler;
  close(): Promise<void>;
}

/** Echoes the request (method, raw URL, headers, body size and hash) as JSON. */
export const echo: UpstreamHandler = (_req, res, seen) => {
  const body = JSON.stringify(seen);
  // Content-Length explicitly, so a HEAD answer carries it too.
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/**
 * Starts an upstream. The body is hashed as it streams (never buffered), and `handler`
 * runs once it has been read — unless the handler is marked `early` by answering before
 * reading (see {@link startUpstream}'s `streaming` option).
 */
export async function startUpstream(opts: { streaming?: UpstreamHandler } = {}): Promise<Upstream> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const upstream: Upstream = {
    url: `http://127.0.0.1:${port}`,
    port,
    seen: [],
    handler: echo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes: 0, sha256: '' };
    upstream.seen.push(seen);
    if (opts.streaming) {
      void Promise.resolve(opts.streaming(req, res, seen)).catch((error: unknown) => res.destroy(error as Error));
      return;
    }
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => {
      seen.bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      seen.sha256 = hash.digest('hex');
      void Promise.resolve(upstream.handler(req, res, seen)).catch((error: unknown) => res.destroy(error as Error));
    });
  });
  return upstream;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: any;
}

/**
 * A request with the exact request target given (no URL normalisation: `..`, `%2e%2e`,
 * `//` and backslashes reach the server as written), over a fresh connection.
 */
export function rawRequest(baseUrl: string, method: string, target: string, opts: { headers?: OutgoingHttpHeaders; body?: Buffer | string | Readable } = {}): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method, path: target, headers: opts.headers ?? {}, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json });
      });
    });
    const body = opts.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** Authorization for a Latchkey key. */
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A generic `http` integration aimed at `baseUrl`. */
export async function httpIntegration(s: TestServer, key: string, authMethod: 'api_key' | 'pat' | 'basic' | 'oauth1', baseUrl: string, config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const res = await s.request('POST', '/v1/integrations', { body: { key, provider: 'http', displayName: `Proxy ${key}`, authMethod, config: { baseUrl, ...config }, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** A connection with the given credentials. */
export async function connection(s: TestServer, integration: string, id: string, credentials: Record<string, unknown>, key?: string) {
  const res = await s.request('POST', `/v1/integrations/${integration}/connections`, { body: { id, credentials }, ...(key ? { key } : {}) });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** Audit events of the proxy for one connection, newest first. */
export async function proxyAudit(s: TestServer, resourceId?: string, key?: string) {
  const res = await s.request('GET', '/v1/audit-events?action=integrations.proxy&limit=200', key ? { key } : {});
  expect(res.status, res.text).toBe(200);
  const events = res.body.data as Array<{ outcome: string; status: number; resource: { type: string; id: string } | null; actor: { keyId: string }; changes: unknown }>;
  return { events: resourceId ? events.filter((e) => e.resource?.id === resourceId) : events, text: res.text };
}
