/**
 * Every module that declares contracts. The client's methods are the contracts exported
 * here, named after their export (`CreateIntegration` → `createIntegration`). A new
 * contract in one of these modules becomes a client method by itself; a new module is one
 * more line here (test/surfaces/client.test.ts fails until every contract of
 * `ALL_CONTRACTS` has its method). Two contracts with one export name do not compile.
 */
export * from '../../contracts/access/access-contracts.js';
export * from '../../contracts/access/principal-contract.js';
export * from '../../contracts/audit/audit-contracts.js';
export * from '../../contracts/integrations/connection-contracts.js';
export * from '../../contracts/integrations/integration-contracts.js';
export * from '../../contracts/integrations/provider-contracts.js';
export * from '../../contracts/integrations/test-contracts.js';
export * from '../../contracts/keys/key-contracts.js';
export * from '../../contracts/oauth/oauth-contracts.js';
export * from '../../contracts/integrations/reveal-contract.js';
export * from '../../contracts/webhooks/webhook-contracts.js';
