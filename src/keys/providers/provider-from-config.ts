import type { LatchkeyConfig } from '../../config.js';
import { loadRootKeys } from '../../crypto/root-key.js';
import type { RootKeyProvider } from '../root-key-provider.js';
import { localRootKeyProvider } from './local-provider.js';
import { vaultTransitProvider } from './vault-transit-provider.js';

export interface ProviderContext {
  warn: (message: string) => void;
  /** Root key ids the database already needs: a missing local key is then an error naming them, never a new key. */
  neededKeyIds?: string[];
}

/**
 * The root key provider the configuration names (LATCHKEY_KEY_PROVIDER): `env`
 * (LATCHKEY_ROOT_KEY), `file` (LATCHKEY_ROOT_KEY_FILE, else `root.key` in the data
 * directory, generated on first start) or `vault` (LATCHKEY_VAULT_ADDR / _TOKEN / _KEY).
 * Call `init()` on the result before use.
 *
 * @example
 * ```ts
 * const provider = rootKeyProviderFrom(loadConfig(), { warn: (m) => logger.warn(m) });
 * await provider.init();
 * ```
 */
export function rootKeyProviderFrom(config: LatchkeyConfig, ctx: ProviderContext): RootKeyProvider {
  if (config.keyProvider === 'vault') {
    return vaultTransitProvider({
      addr: config.vaultAddr!,
      token: config.vaultToken!,
      key: config.vaultKey!,
      mount: config.vaultMount,
      ...(config.vaultNamespace ? { namespace: config.vaultNamespace } : {}),
    });
  }
  const set = loadRootKeys({
    value: config.keyProvider === 'env' ? config.rootKey : undefined,
    file: config.keyProvider === 'file' ? config.rootKeyFile : undefined,
    dataDir: config.dataDir,
    warn: ctx.warn,
    neededKeyIds: ctx.neededKeyIds ?? [],
  });
  return localRootKeyProvider(set, config.keyProvider === 'env' ? 'env' : 'file');
}
