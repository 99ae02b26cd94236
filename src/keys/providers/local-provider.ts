import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open, seal } from '../../crypto/aead.js';
import { type RootKey, type RootKeySet, decodeRootKeys, rootKeyId } from '../../crypto/root-key.js';
import { RootKeyProviderError, type RootKeyProvider } from '../root-key-provider.js';

/**
 * Root keys held by this process: from `LATCHKEY_ROOT_KEY` (`env`) or a key file (`file`,
 * including the generated `root.key` of the data directory). Wrapping is AES-256-GCM under
 * the key version, bound to the caller's associated data — the format Latchkey has always
 * stored, so existing databases keep opening.
 *
 * A key file may hold several versions (one per line). The file is read again when a
 * version it does not know is asked for, so a key added to a shared file by another
 * instance's `latchkey keys rotate` is picked up without a restart.
 *
 * @example
 * ```ts
 * const provider = localRootKeyProvider(loadRootKeys({ dataDir: './data', warn: console.warn }), 'file');
 * ```
 */
export function localRootKeyProvider(set: RootKeySet | RootKey, kind: 'env' | 'file' = 'file'): RootKeyProvider {
  const initial = 'keys' in set ? set : { keys: [set], file: null };
  let keys: RootKey[] = [...initial.keys];
  const file = kind === 'file' ? initial.file : null;

  const find = (id: string): RootKey | undefined => keys.find((k) => k.id === id);
  const reload = () => {
    if (!file) return;
    try {
      keys = decodeRootKeys(readFileSync(file, 'utf8'), file).map((key) => ({ id: rootKeyId(key), key, source: 'file' as const }));
    } catch {
      // Keep what we had: a file being rewritten or briefly unreadable must not drop keys in use.
    }
  };
  const keyOf = (id: string): Buffer => {
    const found = find(id);
    if (!found) throw new RootKeyProviderError(`root key ${id} is not configured (${describe()})`);
    return found.key;
  };
  const describe = () => (file ? `key file ${file}` : 'LATCHKEY_ROOT_KEY');

  return {
    kind,
    async init() {
      reload();
    },
    keyIds: () => keys.map((k) => k.id),
    defaultKeyId: () => keys.at(-1)!.id,
    async has(id) {
      if (!find(id)) reload();
      return find(id) !== undefined;
    },
    async wrap(id, plaintext, aad) {
      // Another instance may have made a version current that was added to the file after we read it.
      if (!find(id)) reload();
      return seal(keyOf(id), plaintext, aad).toString('base64url');
    },
    async unwrap(id, wrapped, aad) {
      if (!find(id)) reload();
      return open(keyOf(id), Buffer.from(wrapped, 'base64url'), aad);
    },
    async rewrap(fromId, wrapped, toId, aad) {
      const plaintext = await this.unwrap(fromId, wrapped, aad);
      try {
        return await this.wrap(toId, plaintext, aad);
      } finally {
        plaintext.fill(0);
      }
    },
    async createVersion(currentId) {
      reload();
      const at = currentId === null ? -1 : keys.findIndex((k) => k.id === currentId);
      // A version configured after the current one (added by the operator) is promoted first.
      if (at < keys.length - 1) return keys.at(-1)!.id;
      if (!file) {
        throw new RootKeyProviderError(
          'root keys given in LATCHKEY_ROOT_KEY cannot be created by Latchkey: generate one (32 random bytes, base64), ' +
            'append it to LATCHKEY_ROOT_KEY after a comma on every instance, restart them, then rotate again',
        );
      }
      const key = randomBytes(32);
      const lines = readFileSync(file, 'utf8').replace(/\s*$/, '\n');
      // Write a sibling and rename it over the file: a crash leaves the old file or the new one, never half of it.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${lines}${key.toString('base64')}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
      reload();
      return rootKeyId(key);
    },
    localKeyBytes: (id) => find(id)?.key ?? null,
    describe,
  };
}
