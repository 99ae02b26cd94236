/**
 * The typed Latchkey client (`latchkey/client`), generated from the operation contracts:
 * one method per operation, inputs and outputs typed by the contracts' zod schemas,
 * problems thrown as {@link LatchkeyProblem}. `fetch`-based; no Node-only imports.
 *
 * @example
 * ```ts
 * import { Latchkey, LatchkeyProblem } from 'latchkey/client';
 *
 * const lk = new Latchkey(); // LATCHKEY_URL and LATCHKEY_API_KEY from the environment
 * try {
 *   const integration = await lk.getIntegration({ key: 'github-prod' });
 *   console.log(integration.displayName, integration.hasSecrets);
 * } catch (error) {
 *   if (error instanceof LatchkeyProblem && error.code === 'not_found') console.log('no such integration');
 *   else throw error;
 * }
 * ```
 *
 * @packageDocumentation
 */
export { Latchkey, type LatchkeyOperations } from './client.js';
export { LatchkeyProblem, type FieldError, type LatchkeyErrorCode, type ProblemDocument } from './problem.js';
export { OPERATIONS, contractByKey, methodNameOf, type ContractOf, type OperationInput, type OperationName, type OperationOutput } from './operations.js';
export { toHttpRequest, type HttpRequestParts } from './request.js';
export { ownProblemOf, streamingMethodNameOf, toProxyRequest, type ProxyCallOptions, type ProxyRequestParts } from './proxy-request.js';
export type { CallOptions, FetchLike, LatchkeyOptions, LatchkeyResponse, OperationMethod, PageItem, RawCallOptions } from './types.js';
