import { createHash, timingSafeEqual } from 'node:crypto';
import { RootKeyProviderError, type RootKeyProvider } from '../root-key-provider.js';

export interface VaultTransitOptions {
  /** Vault's address, e.g. `https://vault.internal:8200` (LATCHKEY_VAULT_ADDR). */
  addr: string;
  /** A token allowed to use the key (LATCHKEY_VAULT_TOKEN); sent as `X-Vault-Token`, never logged. */
  token: string;
  /** The Transit key's name (LATCHKEY_VAULT_KEY). */
  key: string;
  /** Where the Transit engine is mounted (LATCHKEY_VAULT_MOUNT, default `transit`). */
  mount?: string;
  /** Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`. */
  namespace?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * The prefix every plaintext sent to Vault carries: a hash of the associated data. Transit
 * ciphertexts are authenticated, so a wrapped key moved to another tenant or version opens
 * to a prefix that does not match, and is refused — the same binding local wrapping gets
 * from AES-GCM's associated data, without needing a derived Transit key.
 */
const bindingOf = (aad: Buffer): Buffer => createHash('sha256').update('latchkey.vault-wrap.v1\n').update(aad).digest();

const CIPHERTEXT = /^vault:v(\d+):/;

/**
 * HashiCorp Vault's Transit engine as the root key provider (also OpenBao, which keeps its
 * API): data keys are wrapped with `POST /v1/<mount>/encrypt/<key>`, opened with
 * `decrypt`, moved to a new key version with `rewrap` (Vault re-encrypts without returning
 * the plaintext), and a new root key version is `POST /v1/<mount>/keys/<key>/rotate`.
 * Root key ids are `vault:<mount>/<key>:v<version>`; each wrap names its version
 * explicitly (`key_version`) so that every instance wraps with the version the database
 * says is current, not whatever Vault's latest is.
 *
 * @example
 * ```ts
 * const provider = vaultTransitProvider({ addr: 'http://127.0.0.1:8200', token, key: 'latchkey' });
 * await provider.init();
 * ```
 */
export function vaultTransitProvider(opts: VaultTransitOptions): RootKeyProvider {
  const mount = (opts.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
  const base = opts.addr.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const idOf = (version: number) => `vault:${mount}/${opts.key}:v${version}`;
  let versions: number[] = [];

  const versionOf = (id: string): number => {
    const match = /^vault:(.+)\/([^/]+):v(\d+)$/.exec(id);
    if (!match || match[1] !== mount || match[2] !== opts.key) {
      throw new RootKeyProviderError(`root key ${id} is not a version of the Vault Transit key ${mount}/${opts.key}`);
    }
    return Number(match[3]);
  };

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, any> | null> {
    const headers: Record<string, string> = { 'x-vault-token': opts.token };
    if (opts.namespace) headers['x-vault-namespace'] = opts.namespace;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(`${base}/v1/${mount}/${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new RootKeyProviderError(`Vault at ${base} cannot be reached (${cause})`);
    }
    const text = await response.text();
    if (!response.ok) {
      // Vault answers {"errors": ["…"]}; its messages name keys and paths, never key material.
      let detail = `HTTP ${response.status}`;
      try {
        const errors = (JSON.parse(text) as { errors?: unknown }).errors;
        if (Array.isArray(errors) && errors.length > 0) detail += `: ${errors.map(String).join('; ').slice(0, 300)}`;
      } catch {
        // not JSON: the status alone
      }
      throw new RootKeyProviderError(`Vault Transit ${path.split('/')[0]} on key ${mount}/${opts.key} failed (${detail})`);
    }
    return text ? (JSON.parse(text) as Record<string, any>) : null;
  }

  async function readVersions(): Promise<number[]> {
    const info = await call('GET', `keys/${encodeURIComponent(opts.key)}`);
    const data = info?.data ?? {};
    const latest = Number(data.latest_version ?? Math.max(0, ...Object.keys(data.keys ?? {}).map(Number)));
    const min = Math.max(1, Number(data.min_decryption_version ?? 1));
    if (!Number.isInteger(latest) || latest < 1) throw new RootKeyProviderError(`Vault Transit key ${mount}/${opts.key} reports no version`);
    return Array.from({ length: latest - min + 1 }, (_, i) => min + i);
  }

  const ciphertextVersion = (ciphertext: unknown): number => {
    const match = typeof ciphertext === 'string' ? CIPHERTEXT.exec(ciphertext) : null;
    if (!match) throw new RootKeyProviderError(`Vault Transit on key ${mount}/${opts.key} returned no ciphertext`);
    return Number(match[1]);
  };

  return {
    kind: 'vault',
    async init() {
      versions = await readVersions();
    },
    keyIds: () => versions.map(idOf),
    defaultKeyId: () => idOf(versions.at(-1) ?? 1),
    async has(id) {
      let version: number;
      try {
        version = versionOf(id);
      } catch {
        return false;
      }
      if (!versions.includes(version)) versions = await readVersions();
      return versions.includes(version);
    },
    async wrap(id, plaintext, aad) {
      const version = versionOf(id);
      const payload = Buffer.concat([bindingOf(aad), plaintext]);
      try {
        const out = await call('POST', `encrypt/${encodeURIComponent(opts.key)}`, { plaintext: payload.toString('base64'), key_version: version });
        const ciphertext = out?.data?.ciphertext;
        if (ciphertextVersion(ciphertext) !== version) throw new RootKeyProviderError(`Vault Transit wrapped with another version than ${id}`);
        return ciphertext as string;
      } finally {
        payload.fill(0);
      }
    },
    async unwrap(id, wrapped, aad) {
      const version = versionOf(id);
      if (ciphertextVersion(wrapped) !== version) throw new RootKeyProviderError(`wrapped key does not belong to root key ${id}`);
      const out = await call('POST', `decrypt/${encodeURIComponent(opts.key)}`, { ciphertext: wrapped });
      const payload = Buffer.from(String(out?.data?.plaintext ?? ''), 'base64');
      const binding = bindingOf(aad);
      if (payload.length <= binding.length || !timingSafeEqual(payload.subarray(0, binding.length), binding)) {
        payload.fill(0);
        throw new RootKeyProviderError('wrapped key is bound to another tenant or version');
      }
      const key = Buffer.from(payload.subarray(binding.length));
      payload.fill(0);
      return key;
    },
    async rewrap(fromId, wrapped, toId) {
      versionOf(fromId);
      const version = versionOf(toId);
      const out = await call('POST', `rewrap/${encodeURIComponent(opts.key)}`, { ciphertext: wrapped, key_version: version });
      const ciphertext = out?.data?.ciphertext;
      if (ciphertextVersion(ciphertext) !== version) throw new RootKeyProviderError(`Vault Transit rewrapped with another version than ${toId}`);
      return ciphertext as string;
    },
    async createVersion(currentId) {
      versions = await readVersions();
      const current = currentId === null ? 0 : versionOf(currentId);
      // Vault already has a newer version (rotated there, or by an earlier run that stopped): use it.
      if (versions.at(-1)! > current) return idOf(versions.at(-1)!);
      await call('POST', `keys/${encodeURIComponent(opts.key)}/rotate`);
      versions = await readVersions();
      if (versions.at(-1)! <= current) throw new RootKeyProviderError(`Vault Transit key ${mount}/${opts.key} did not get a new version`);
      return idOf(versions.at(-1)!);
    },
    localKeyBytes: () => null,
    describe: () => `Vault Transit key ${mount}/${opts.key} at ${base}`,
  };
}
