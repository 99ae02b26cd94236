/**
 * Where the root key lives. Latchkey never needs the root key itself, only four things
 * done with it — wrap, unwrap, rewrap and "make a new version" — so a key held by an
 * external service (Vault Transit) and one held locally (environment, file) sit behind the
 * same interface. Root key ids name one version each (`rk_…` for local keys,
 * `vault:<mount>/<key>:v<n>` for Vault) and are stored beside every wrapped key.
 *
 * @example
 * ```ts
 * const provider = localRootKeyProvider(loadRootKeys({ dataDir: './data', warn: console.warn }), 'file');
 * await provider.init();
 * const id = provider.defaultKeyId();
 * const wrapped = await provider.wrap(id, dataKey, aad);
 * const again = await provider.unwrap(id, wrapped, aad);
 * ```
 */
export interface RootKeyProvider {
  /** `env`, `file` or `vault`: shown in `keys status`, stored in `root_keys`. */
  readonly kind: RootKeyProviderKind;
  /** Connects or reads what it needs (the key file, the Vault key's versions). */
  init(): Promise<void>;
  /** The versions it can use now, oldest first. */
  keyIds(): string[];
  /** The version to wrap with when the database names none yet (a new installation). */
  defaultKeyId(): string;
  /** Whether it can use `id`, after looking again where keys may have been added (the key file). */
  has(id: string): Promise<boolean>;
  /** Encrypts a data key under root key version `id`, bound to `aad`. */
  wrap(id: string, plaintext: Buffer, aad: Buffer): Promise<string>;
  /** Opens what `wrap` produced; throws when the key, the bytes or `aad` differ. */
  unwrap(id: string, wrapped: string, aad: Buffer): Promise<Buffer>;
  /** Moves a wrapped key from version `fromId` to `toId` (Vault does it without disclosing the key). */
  rewrap(fromId: string, wrapped: string, toId: string, aad: Buffer): Promise<string>;
  /**
   * Makes a version newer than `currentId` available and returns its id: a configured
   * version the database does not use yet, else a new one where the provider can create
   * it (a new line in the key file, a Vault key rotation). Throws, saying what to do,
   * where it cannot (keys given in the environment).
   */
  createVersion(currentId: string | null): Promise<string>;
  /** The raw bytes of a local key version (older installations derived digests from them); null elsewhere. */
  localKeyBytes(id: string): Buffer | null;
  /** Where the keys come from, for messages (never key material). */
  describe(): string;
}

export type RootKeyProviderKind = 'env' | 'file' | 'vault';

/** A root key provider that could not be reached or refused a call. Messages never carry key material or tokens. */
export class RootKeyProviderError extends Error {
  override readonly name = 'RootKeyProviderError';
}
