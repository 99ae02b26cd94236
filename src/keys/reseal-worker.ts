import { Worker } from 'node:worker_threads';

/** One ciphertext to open with the version it names and seal again under `toVersion`. */
export interface ResealItem {
  /**
   * The associated data it is bound to (unchanged by resealing), as text: a small Buffer is
   * a view on an 8 KiB pool, and posting it to a worker would copy the whole pool.
   */
  aad: string;
  /** The data-key version it was sealed with, and its body (base64url of nonce‖ct‖tag). */
  version: number;
  body: string;
}

export interface ResealRequest {
  keys: ReadonlyMap<number, Uint8Array>;
  toVersion: number;
  items: ResealItem[];
}

/**
 * The worker's code, evaluated as CommonJS so that it needs no module resolution (it runs
 * the same under tsx, from a bundle and from dist/). The same AES-256-GCM layout as
 * src/crypto/aead.ts: 12-byte random nonce ‖ ciphertext ‖ 16-byte tag.
 */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createCipheriv, createDecipheriv, randomBytes } = require('node:crypto');
let pool = Buffer.alloc(0), at = 0;
function nonce() {
  if (at + 12 > pool.length) { pool = randomBytes(4092); at = 0; }
  const n = Buffer.from(pool.subarray(at, at + 12)); pool.fill(0, at, at + 12); at += 12; return n;
}
parentPort.on('message', ({ id, keys, toVersion, items }) => {
  const out = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const { version, body } = items[i];
    const aad = Buffer.from(items[i].aad, 'utf8');
    const key = keys.get(version);
    let plaintext;
    try {
      const sealed = Buffer.from(body, 'base64url');
      const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      plaintext = Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
    } catch (e) {
      parentPort.postMessage({ id, failedAt: i });
      return;
    }
    const iv = nonce();
    const c = createCipheriv('aes-256-gcm', keys.get(toVersion), iv);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    plaintext.fill(0);
    out[i] = 'lk1.' + toVersion + '.' + Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64url');
  }
  parentPort.postMessage({ id, out });
});
`;

/** A reseal that failed: the item at `index` did not open (tampered, or moved from another record). */
export class ResealFailure extends Error {
  constructor(readonly index: number) {
    super(`item ${index} does not decrypt`);
  }
}

/**
 * A worker thread that opens and reseals batches of ciphertexts, so that re-encryption
 * overlaps the cryptography of one batch with the database work of the previous one (on
 * two cores, close to twice the throughput). Data keys are copied to the worker for the
 * batch; it keeps nothing between batches but random nonce bytes.
 *
 * @example
 * ```ts
 * const worker = resealWorker();
 * const ciphertexts = await worker.reseal({ keys, toVersion: 3, items });
 * await worker.close();
 * ```
 */
export function resealWorker() {
  const worker = new Worker(SOURCE, { eval: true });
  worker.unref();
  let next = 0;
  const waiting = new Map<number, { resolve: (out: string[]) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: { id: number; out?: string[]; failedAt?: number }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (!w) return;
    if (m.out) w.resolve(m.out);
    else w.reject(new ResealFailure(m.failedAt ?? -1));
  });
  worker.on('error', (error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  });
  return {
    reseal(request: ResealRequest): Promise<string[]> {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, keys: request.keys, toVersion: request.toVersion, items: request.items });
      });
    },
    async close(): Promise<void> {
      await worker.terminate();
    },
  };
}
