import { z } from 'zod';
import type { AnyContract } from '../../contracts/define.js';

/**
 * Operations that are never offered as MCP tools, whatever the caller's policies. An MCP
 * client is usually an agent driven by a language model: anything it receives lands in a
 * prompt, a transcript or a log we do not control, so nothing that returns a usable
 * secret may be a tool.
 *
 * - `integrations.connection.reveal` returns stored credential values (SPEC 2.7).
 * - `integrations.connection.token` returns a live access token.
 * - `access.apiKey.create` and `access.tenant.create` return a freshly minted API key
 *   ("shown once"); an agent should not mint keys, and the key would end up in its
 *   context. Operators create keys with the CLI or the HTTP API instead.
 * - `webhooks.endpoint.create` returns the new endpoint's signing secret (shown once);
 *   whoever holds it can forge events to the receiver.
 * - `integrations.proxy` (a streaming operation, outside the registry the tools come from)
 *   is deliberately not a tool either, even with a bounded response: it relays whatever a
 *   customer's third-party API answers — customer data Latchkey never inspects, possibly
 *   credentials the provider itself hands out, which the scrubber cannot recognise — into
 *   a model's context, where the provider's text can also steer an agent that holds a
 *   Latchkey key (prompt injection). Truncating the body would bound the size, not that.
 *   Workloads use the proxy over HTTP, `lk.proxy()` or `latchkey proxy`.
 *
 * Keys listed here that do not exist yet are listed on purpose: a future contract with
 * that key stays hidden from the day it is added.
 */
export const NEVER_EXPOSED_AS_TOOLS: ReadonlyMap<string, string> = new Map([
  ['integrations.connection.reveal', 'returns stored credential values'],
  ['integrations.connection.token', 'returns a live access token'],
  ['access.apiKey.create', 'returns a new API key (shown once); agents must not mint keys'],
  ['access.tenant.create', 'returns the new tenant\'s first admin key (shown once)'],
  ['webhooks.endpoint.create', 'returns the endpoint\'s signing secret (shown once)'],
  ['integrations.proxy', 'relays third-party responses (customer data, possibly credentials the provider returns, text that could steer an agent) unfiltered into a model\'s context'],
]);

/** MCP tool names allow `[a-zA-Z0-9_-]`: `integrations.integration.create` → `integrations_integration_create`. */
export const toolNameOf = (key: string): string => key.replace(/[^A-Za-z0-9_-]/g, '_');

export const isExposedAsTool = (contract: AnyContract): boolean => !NEVER_EXPOSED_AS_TOOLS.has(contract.meta.key);

export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; [k: string]: unknown };
  annotations: { title: string; readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

const DESTRUCTIVE_VERBS = new Set(['delete', 'revoke', 'replace']);
const IDEMPOTENT_VERBS = new Set(['delete', 'revoke', 'replace', 'update']);

/** The MCP tool of one contract: name from the key, texts from meta, JSON Schema of the input. */
export function toolOf(contract: AnyContract): ToolDefinition {
  const { meta } = contract;
  const { $schema: _ignored, ...schema } = z.toJSONSchema(contract.io.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const verb = meta.key.split('.').at(-1) ?? '';
  return {
    name: toolNameOf(meta.key),
    title: meta.title,
    description: `${meta.title}: ${meta.description}\nGoal: ${meta.goal}\n${meta.context}\n(operation ${meta.key} v${meta.version}, ${meta.stability})`,
    inputSchema: { ...schema, type: 'object' },
    annotations: {
      title: meta.title,
      readOnlyHint: contract.kind === 'query',
      destructiveHint: contract.kind === 'command' && DESTRUCTIVE_VERBS.has(verb),
      idempotentHint: contract.kind === 'query' || IDEMPOTENT_VERBS.has(verb),
      // Connection tests reach third-party services; everything else stays inside Latchkey.
      openWorldHint: meta.key.startsWith('integrations.') && (verb === 'test' || verb === 'verify'),
    },
  };
}
