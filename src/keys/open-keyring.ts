import type { LatchkeyConfig } from '../config.js';
import { Keyring, type KeyringOptions } from '../crypto/keyring.js';
import type { Store } from '../store/database.js';
import { rootKeyProviderFrom } from './providers/provider-from-config.js';

/**
 * The start-up of the key hierarchy, shared by the server and the offline CLI commands:
 * the root key provider the configuration names, checked against what the database holds.
 * Refuses (with a {@link RootKeyMismatchError} naming the key id needed) a root key that
 * cannot unwrap the stored keys, and never generates a new key for a database that needs
 * an existing one.
 *
 * @example
 * ```ts
 * const keyring = await openKeyring(store, config, (m) => logger.warn(m));
 * ```
 */
export async function openKeyring(store: Store, config: LatchkeyConfig, warn: (message: string) => void, options: KeyringOptions = {}): Promise<Keyring> {
  const { db } = store;
  const [dataRoots, systemRoots, rootRows] = await Promise.all([
    db.selectFrom('data_keys').select('root_key_id').distinct().where('retired_at', 'is', null).execute(),
    db.selectFrom('system_keys').select('root_key_id').distinct().execute(),
    db.selectFrom('root_keys').select('id').where('retired_at', 'is', null).execute(),
  ]);
  const needed = [...new Set([...dataRoots.map((r) => r.root_key_id), ...systemRoots.map((r) => r.root_key_id), ...rootRows.map((r) => r.id)])];
  const provider = rootKeyProviderFrom(config, { warn, neededKeyIds: needed });
  const keyring = new Keyring(provider, options);
  await keyring.open(db);
  return keyring;
}
