import type { ContractAudit } from './define.js';

/**
 * The audit resources of commands addressed by their path parameters, in the form the
 * handlers record on success (`connection` ids are `{integration}/{connection}`).
 *
 * @example
 * ```ts
 * defineCommand({ …, audit: connectionResource });
 * ```
 */
export const connectionResource: ContractAudit<{ key: string; id: string }> = { resource: (input) => ({ type: 'connection', id: `${input.key}/${input.id}` }) };
export const integrationResource: ContractAudit<{ key: string }> = { resource: (input) => ({ type: 'integration', id: input.key }) };
export const webhookResource: ContractAudit<{ id: string }> = { resource: (input) => ({ type: 'webhook_endpoint', id: input.id }) };
export const apiKeyResource: ContractAudit<{ id: string }> = { resource: (input) => ({ type: 'api_key', id: input.id }) };
