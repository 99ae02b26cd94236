import type { OperationOutput } from '../../../src/surfaces/client/index.js';
import type {
  CreateApiKey,
  GetConnection,
  GetIntegration,
  GetProvider,
  ListAuditEvents,
  TestConnection,
} from '../../../src/surfaces/client/contract-modules.js';

/** Records as the typed client returns them, named for the pages. */
export type Integration = OperationOutput<typeof GetIntegration>;
export type Connection = OperationOutput<typeof GetConnection>;
export type Provider = OperationOutput<typeof GetProvider>;
export type ProviderParameter = Provider['parameters'][number];
export type TestResult = OperationOutput<typeof TestConnection>;
export type AuditEvent = OperationOutput<typeof ListAuditEvents>['data'][number];
export type ApiKey = OperationOutput<typeof CreateApiKey>['apiKey'];
