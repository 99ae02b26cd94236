/**
 * Latchkey as a library: start the service in-process.
 *
 * @example
 * ```ts
 * import { createLatchkey, loadConfig } from 'latchkey';
 * const lk = await createLatchkey(loadConfig());
 * await lk.app.listen({ host: lk.config.host, port: lk.config.port });
 * ```
 */
export { createLatchkey, type Latchkey, VERSION } from './app.js';
export { loadConfig, type LatchkeyConfig } from './config.js';
export { ALL_CONTRACTS } from './contracts/index.js';
export { LatchkeyError, type LatchkeyErrorCode } from './errors.js';
