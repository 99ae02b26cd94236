/**
 * A local HTTP server speaking the wire format of HashiCorp Vault's Transit engine for the
 * calls Latchkey makes (API docs: /v1/<mount>/keys/:name, …/keys/:name/rotate, encrypt,
 * decrypt, rewrap), so the Vault provider is tested against real HTTP rather than a mock:
 * `X-Vault-Token` is checked, errors come back as `{"errors": [...]}` with Vault's status
 * codes, ciphertexts are `vault:v<n>:<base64>` under a real AES-256-GCM key per version,
 * and `min_decryption_version` is honoured.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface TransitKey {
  versions: Map<number, { key: Buffer; created: number }>;
  latest: number;
  minDecryption: number;
}

export interface FakeVault {
  url: string;
  token: string;
  /** Every request's method, path and whether it carried the right token (never bodies). */
  requests: Array<{ method: string; path: string; authorized: boolean }>;
  /** Creates a key (as `vault write -f transit/keys/<name>` would). */
  createKey(name: string, mount?: string): void;
  /** Raises `min_decryption_version` (as `…/keys/<name>/config` would). */
  setMinDecryptionVersion(name: string, version: number, mount?: string): void;
  /** Makes the next calls fail with 503, like a sealed Vault. */
  seal(sealed: boolean): void;
  close(): Promise<void>;
}

export async function startFakeVault(token = `hvs.${randomBytes(12).toString('hex')}`): Promise<FakeVault> {
  const keys = new Map<string, TransitKey>();
  const requests: FakeVault['requests'] = [];
  let sealed = false;

  const newVersion = (k: TransitKey) => {
    k.latest++;
    k.versions.set(k.latest, { key: randomBytes(32), created: Math.floor(Date.now() / 1000) });
  };
  const encrypt = (k: TransitKey, version: number, plaintext: Buffer) => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', k.versions.get(version)!.key, nonce);
    const body = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `vault:v${version}:${body.toString('base64')}`;
  };
  const decrypt = (k: TransitKey, ciphertext: string): Buffer => {
    const match = /^vault:v(\d+):(.+)$/.exec(ciphertext);
    if (!match) throw new HttpError(400, 'invalid ciphertext: no prefix');
    const version = Number(match[1]);
    if (version < k.minDecryption) throw new HttpError(400, 'ciphertext or signature version is disallowed by policy (too old)');
    const entry = k.versions.get(version);
    if (!entry) throw new HttpError(400, 'invalid ciphertext: key version not found');
    const raw = Buffer.from(match[2]!, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    } catch {
      throw new HttpError(400, 'cipher: message authentication failed');
    }
  };
  const versionFor = (k: TransitKey, requested: unknown) => {
    const v = requested === undefined || requested === 0 ? k.latest : Number(requested);
    if (!k.versions.has(v)) throw new HttpError(400, 'invalid key version');
    return v;
  };

  class HttpError extends Error {
    constructor(readonly status: number, message: string) {
      super(message);
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://vault');
    const authorized = req.headers['x-vault-token'] === token;
    requests.push({ method: req.method ?? '', path: url.pathname, authorized });
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    try {
      if (sealed) throw new HttpError(503, 'Vault is sealed');
      if (!authorized) throw new HttpError(403, 'permission denied');
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      const match = /^\/v1\/(.+)\/(keys|encrypt|decrypt|rewrap)\/([^/]+)(\/rotate)?$/.exec(url.pathname);
      if (!match) throw new HttpError(404, 'no handler for route');
      const [, mount, op, name, rotate] = match as unknown as [string, string, string, string, string | undefined];
      const k = keys.get(`${mount}/${name}`);
      if (!k) throw new HttpError(op === 'keys' && req.method === 'GET' ? 404 : 400, 'encryption key not found');
      if (op === 'keys' && req.method === 'GET' && !rotate) {
        return send(200, {
          data: {
            name,
            type: 'aes256-gcm96',
            keys: Object.fromEntries([...k.versions].map(([v, e]) => [String(v), e.created])),
            latest_version: k.latest,
            min_decryption_version: k.minDecryption,
            min_encryption_version: 0,
            supports_encryption: true,
            supports_decryption: true,
          },
        });
      }
      if (req.method !== 'POST') throw new HttpError(405, 'unsupported operation');
      if (op === 'keys' && rotate) {
        newVersion(k);
        return send(204);
      }
      if (op === 'encrypt') {
        const plaintext = Buffer.from(String(body.plaintext ?? ''), 'base64');
        const version = versionFor(k, body.key_version);
        return send(200, { data: { ciphertext: encrypt(k, version, plaintext), key_version: version } });
      }
      if (op === 'decrypt') return send(200, { data: { plaintext: decrypt(k, String(body.ciphertext ?? '')).toString('base64') } });
      if (op === 'rewrap') {
        const plaintext = decrypt(k, String(body.ciphertext ?? ''));
        const version = versionFor(k, body.key_version);
        return send(200, { data: { ciphertext: encrypt(k, version, plaintext), key_version: version } });
      }
      throw new HttpError(404, 'no handler for route');
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      send(status, { errors: [(error as Error).message] });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    createKey(name, mount = 'transit') {
      const k: TransitKey = { versions: new Map(), latest: 0, minDecryption: 1 };
      newVersion(k);
      keys.set(`${mount}/${name}`, k);
    },
    setMinDecryptionVersion(name, version, mount = 'transit') {
      keys.get(`${mount}/${name}`)!.minDecryption = version;
    },
    seal(value) {
      sealed = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
