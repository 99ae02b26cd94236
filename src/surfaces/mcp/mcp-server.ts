import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../../contracts/context.js';
import type { AnyContract } from '../../contracts/define.js';
import type { Registry } from '../../contracts/registry.js';
import { LatchkeyError } from '../../errors.js';
import { toProblem } from '../http/problem.js';
import { scrubSecrets } from './scrub-secrets.js';
import { type ToolDefinition, isExposedAsTool, toolNameOf, toolOf } from './tool-catalog.js';

export interface McpServerOptions {
  registry: Registry;
  /**
   * The caller, resolved on every call (so a key revoked while the server runs stops
   * working within the authenticator's cache TTL); `null` when the key is not valid.
   */
  principal: () => Promise<Principal | null>;
  version: string;
}

const INSTRUCTIONS =
  'Latchkey keeps integrations (how a tenant connects to a provider) and connections (one authenticated link per end-user account). ' +
  'Each tool is one Latchkey operation, run under the policies of the API key this server was started with. ' +
  'Secrets are write-only: you may set them (e.g. secrets.clientSecret, credentials.apiKey) but no tool ever returns one; records show hasSecrets instead. ' +
  'On update, omit a secret to keep it, send null to remove it. Errors come back as RFC 9457 problems with a stable code.';

const text = (value: unknown): CallToolResult['content'] => [{ type: 'text', text: JSON.stringify(scrubSecrets(value), null, 2) }];

/**
 * An MCP server whose tools are the registry's operations (minus the never-exposed ones),
 * each run through the same pipeline as HTTP: authorize → validate → handler + audit →
 * output check. A refused or failing call is a tool result with `isError: true` and the
 * problem document, never a protocol error, so an agent can read and react to it.
 */
export function createMcpServer(opts: McpServerOptions): Server {
  const exposed = new Map<string, { contract: AnyContract; tool: ToolDefinition }>();
  for (const contract of opts.registry.contracts().filter(isExposedAsTool)) {
    exposed.set(toolNameOf(contract.meta.key), { contract, tool: toolOf(contract) });
  }
  const tools = [...exposed.values()].map((e) => e.tool);

  const server = new Server({ name: 'latchkey', title: 'Latchkey', version: opts.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const entry = exposed.get(request.params.name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${request.params.name}`);
    const requestId = randomUUID();
    const instance = `mcp:tools/call/${request.params.name}`;
    try {
      const principal = await opts.principal();
      if (!principal) throw new LatchkeyError('unauthenticated', 'the API key this MCP server was started with is not valid (revoked or expired?)');
      const result = await opts.registry.execute(entry.contract.meta.key, request.params.arguments ?? {}, { principal, surface: 'mcp', requestId, ip: null });
      return { content: text(result.output) };
    } catch (error) {
      return { isError: true, content: text(toProblem(error, instance, requestId)) };
    }
  });
  return server;
}
