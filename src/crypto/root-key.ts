import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The key that wraps every tenant's data keys. Never leaves the process. */
export interface RootKey {
  /** Public fingerprint (`rk_` + 16 hex of SHA-256), stored beside wrapped keys. */
  id: string;
  key: Buffer;
  /** Where it came from, for the start-up log. */
  source: 'env' | 'file' | 'generated';
}

export const rootKeyId = (key: Buffer): string =>
  `rk_${createHash('sha256').update('latchkey-root-key-id').update(key).digest('hex').slice(0, 16)}`;

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${where} must be base64 of exactly 32 bytes (got ${key.length})`);
  return key;
}

/**
 * Several root key versions in one value: a file holds one base64 key per line (blank
 * lines and `#` comments ignored), an environment variable separates them with commas.
 * Oldest first; the order only matters for `latchkey keys rotate`, which promotes the
 * newest key the database does not use yet. Which version wraps new keys is recorded in
 * the database (`root_keys`), so instances configured with an extra key keep agreeing.
 */
export function decodeRootKeys(text: string, where: string): Buffer[] {
  const parts = text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.length > 0);
  if (parts.length === 0) throw new Error(`${where} holds no key`);
  return parts.map((part, i) => decode(part, parts.length > 1 ? `${where} (key ${i + 1})` : where));
}

/** Every root key version configured, oldest first, and the file they came from (null for the environment). */
export interface RootKeySet {
  keys: RootKey[];
  /** The file holding them, which `latchkey keys rotate` may append a new version to. */
  file: string | null;
}

/** Like {@link loadRootKey}, but returns every configured version (see {@link decodeRootKeys}). */
export function loadRootKeys(opts: RootKeyOptions): RootKeySet {
  if (opts.value) {
    const keys = decodeRootKeys(opts.value, 'LATCHKEY_ROOT_KEY');
    return { keys: keys.map((key) => ({ id: rootKeyId(key), key, source: 'env' as const })), file: null };
  }
  const file = opts.file ?? join(opts.dataDir, 'root.key');
  if (opts.file || existsSync(file)) {
    const where = opts.file ? `LATCHKEY_ROOT_KEY_FILE (${opts.file})` : file;
    const keys = decodeRootKeys(readFileSync(file, 'utf8'), where);
    return { keys: keys.map((key) => ({ id: rootKeyId(key), key, source: 'file' as const })), file };
  }
  const generated = loadRootKey(opts);
  return { keys: [generated], file };
}

export interface RootKeyOptions {
  /** base64 key (LATCHKEY_ROOT_KEY). */
  value?: string | undefined;
  /** path to a file holding the base64 key (LATCHKEY_ROOT_KEY_FILE). */
  file?: string | undefined;
  dataDir: string;
  warn: (message: string) => void;
  /**
   * Root key ids the database already needs. When non-empty, a missing key is an error
   * naming them instead of a freshly generated key that could never unwrap anything.
   */
  neededKeyIds?: string[];
}

/**
 * Loads the root key: from the value, else from the file, else from `root.key` in the
 * data directory, generating it (mode 0600) on first start with a warning to move it.
 */
export function loadRootKey(opts: RootKeyOptions): RootKey {
  if (opts.value) {
    const key = decodeRootKeys(opts.value, 'LATCHKEY_ROOT_KEY').at(-1)!;
    return { id: rootKeyId(key), key, source: 'env' };
  }
  if (opts.file) {
    const key = decodeRootKeys(readFileSync(opts.file, 'utf8'), `LATCHKEY_ROOT_KEY_FILE (${opts.file})`).at(-1)!;
    return { id: rootKeyId(key), key, source: 'file' };
  }
  const path = join(opts.dataDir, 'root.key');
  if (existsSync(path)) {
    const key = decodeRootKeys(readFileSync(path, 'utf8'), path).at(-1)!;
    return { id: rootKeyId(key), key, source: 'file' };
  }
  if (opts.neededKeyIds && opts.neededKeyIds.length > 0) {
    throw new Error(
      `no root key is configured, but the database holds data keys wrapped by ${opts.neededKeyIds.join(' or ')}; ` +
        'start with that key in LATCHKEY_ROOT_KEY or LATCHKEY_ROOT_KEY_FILE',
    );
  }
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  opts.warn(
    `generated a new root key at ${path}; anyone with this file and the database can read every secret. ` +
      'Move it out of the data directory and pass it with LATCHKEY_ROOT_KEY_FILE or LATCHKEY_ROOT_KEY.',
  );
  return { id: rootKeyId(key), key, source: 'generated' };
}
