import { CreateApiKey, CreateTenant, ListApiKeys, ListTenants, RevokeApiKey } from '../contracts/access/access-contracts.js';
import { WhoAmI } from '../contracts/access/principal-contract.js';
import { ListAuditEvents, VerifyAuditChain } from '../contracts/audit/audit-contracts.js';
import { GetKeyStatus, RotateDataKey, RotateRootKey } from '../contracts/keys/key-contracts.js';
import { CreateConnection, DeleteConnection, GetConnection, ListConnections, UpdateConnection } from '../contracts/integrations/connection-contracts.js';
import {
  CreateIntegration,
  DeleteIntegration,
  GetIntegration,
  ListIntegrations,
  ReplaceIntegration,
  UpdateIntegration,
} from '../contracts/integrations/integration-contracts.js';
import { GetProvider, ListProviders } from '../contracts/integrations/provider-contracts.js';
import { TestConnection, TestCredentials } from '../contracts/integrations/test-contracts.js';
import { CreateConnectSession, MintConnectionToken, RefreshConnection, VerifyIntegration } from '../contracts/oauth/oauth-contracts.js';
import { RevealConnection } from '../contracts/integrations/reveal-contract.js';
import {
  CreateWebhookEndpoint,
  DeleteWebhookEndpoint,
  GetWebhookEndpoint,
  ListWebhookDeliveries,
  ListWebhookEndpoints,
  UpdateWebhookEndpoint,
} from '../contracts/webhooks/webhook-contracts.js';
import type { Registry } from '../contracts/registry.js';
import { accessHandlers } from './access/access-handlers.js';
import { whoAmIHandler } from './access/principal-handler.js';
import { auditHandlers } from './audit-handlers.js';
import { connectionHandlers } from './connections/connection-handlers.js';
import { connectionTesting } from './connections/connection-testing.js';
import { revealHandler } from './connections/reveal-handler.js';
import { integrationHandlers } from './integrations/integration-handlers.js';
import { keyHandlers } from './keys/key-handlers.js';
import { oauthHandlers } from './oauth/oauth-handlers.js';
import { providerHandlers } from './provider-handlers.js';
import type { Services } from './services.js';
import { webhookHandlers } from './webhooks/webhook-handlers.js';

/** Binds every contract to its domain handler, once. */
export function bindHandlers(registry: Registry, services: Services, hooks: { onKeyRevoked: (keyId: string) => void }): Registry {
  const providers = providerHandlers(services.catalog);
  const integrations = integrationHandlers(services);
  const connections = connectionHandlers(services);
  const testing = connectionTesting(services);
  const oauth = oauthHandlers(services);
  const access = accessHandlers(services, hooks.onKeyRevoked);
  const keys = keyHandlers(services);
  const audit = auditHandlers(services.audit.chainKey, services.store.engine);
  const webhooks = webhookHandlers(services);
  return registry
    .bind(ListProviders, providers.list)
    .bind(GetProvider, providers.get)
    .bind(CreateIntegration, integrations.create)
    .bind(GetIntegration, integrations.get)
    .bind(ListIntegrations, integrations.list)
    .bind(UpdateIntegration, integrations.update)
    .bind(ReplaceIntegration, integrations.replace)
    .bind(DeleteIntegration, integrations.delete)
    .bind(CreateConnection, connections.create)
    .bind(GetConnection, connections.get)
    .bind(ListConnections, connections.list)
    .bind(UpdateConnection, connections.update, testing.prepareVerifiedUpdate)
    .bind(DeleteConnection, connections.delete)
    .bind(TestConnection, testing.testConnection, testing.prepareConnectionTest)
    .bind(TestCredentials, testing.testCredentials, testing.prepareCredentialsTest)
    .bind(RevealConnection, revealHandler(services))
    .bind(CreateWebhookEndpoint, webhooks.create)
    .bind(ListWebhookEndpoints, webhooks.list)
    .bind(GetWebhookEndpoint, webhooks.get)
    .bind(UpdateWebhookEndpoint, webhooks.update)
    .bind(DeleteWebhookEndpoint, webhooks.delete)
    .bind(ListWebhookDeliveries, webhooks.deliveries)
    .bind(VerifyIntegration, oauth.verify, oauth.prepareVerify)
    .bind(MintConnectionToken, oauth.mint, oauth.prepareMint, { writes: 'audit-only' })
    .bind(RefreshConnection, oauth.refresh, oauth.prepareRefresh)
    .bind(CreateConnectSession, oauth.createConnectSession)
    .bind(CreateApiKey, access.createApiKey)
    .bind(ListApiKeys, access.listApiKeys)
    .bind(RevokeApiKey, access.revokeApiKey)
    .bind(CreateTenant, access.createTenant)
    .bind(ListTenants, access.listTenants)
    .bind(WhoAmI, whoAmIHandler)
    .bind(ListAuditEvents, audit.list)
    .bind(VerifyAuditChain, audit.verify)
    .bind(GetKeyStatus, keys.status)
    .bind(RotateDataKey, keys.rotateDataKey)
    .bind(RotateRootKey, keys.rotateRootKey, keys.prepareRootRotation);
}
