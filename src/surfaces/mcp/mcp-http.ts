import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Registry } from '../../contracts/registry.js';
import type { Authenticator } from '../../domain/access/authenticator.js';
import { createMcpServer } from './mcp-server.js';

export interface McpHttpOptions {
  registry: Registry;
  authenticator: Authenticator;
  version: string;
  port: number;
  /** Loopback only by default; the MCP endpoint is meant for local agents. */
  host?: string;
}

export interface McpHttpListener {
  url: string;
  close(): Promise<void>;
}

/** `Authorization: Bearer <key>` or `X-API-Key: <key>`, as on the REST API. */
function presentedKey(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header : null;
}

function refuse(res: ServerResponse, status: number, code: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: code, status, code, detail }));
}

/**
 * Streamable HTTP transport at `POST /mcp`, stateless: every request carries its own API
 * key and gets a fresh MCP server bound to that key, so two agents with different keys
 * never share a principal. Host headers other than the listener's own are refused (DNS
 * rebinding protection).
 */
export async function listenMcpHttp(opts: McpHttpOptions): Promise<McpHttpListener> {
  const host = opts.host ?? '127.0.0.1';
  let allowedHosts: string[] = [];
  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') return refuse(res, 404, 'not_found', 'the MCP endpoint is POST /mcp');
      if (req.method !== 'POST') return refuse(res, 405, 'method_not_allowed', 'this stateless endpoint accepts POST only');
      const key = presentedKey(req);
      const principal = key ? await opts.authenticator.authenticate(key) : null;
      if (!key || !principal) return refuse(res, 401, 'unauthenticated', 'send a valid API key as Authorization: Bearer <key>');
      const server = createMcpServer({ registry: opts.registry, version: opts.version, principal: () => opts.authenticator.authenticate(key) });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, enableDnsRebindingProtection: true, allowedHosts });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res);
    })().catch(() => {
      if (!res.headersSent) refuse(res, 500, 'internal', 'the MCP request failed');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  allowedHosts = [`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`];
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
