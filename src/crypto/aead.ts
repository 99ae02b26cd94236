import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Random nonces are cut from a pool filled 4 KiB at a time: one CSPRNG call per ~340
 * encryptions instead of one each (the call's fixed cost dominates at 12 bytes). Every
 * byte is used once, so nonces stay as random and as unique as separate calls would give.
 */
const POOL_BYTES = 4096 - (4096 % NONCE_BYTES);
let pool = Buffer.alloc(0);
let poolAt = 0;
function freshNonce(): Buffer {
  if (poolAt + NONCE_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const nonce = Buffer.from(pool.subarray(poolAt, poolAt + NONCE_BYTES));
  pool.fill(0, poolAt, poolAt + NONCE_BYTES);
  poolAt += NONCE_BYTES;
  return nonce;
}

/**
 * AES-256-GCM with a fresh random 96-bit nonce per call. The associated data is
 * authenticated but not stored: the reader must supply the same bytes, which is what
 * binds a ciphertext to its tenant, record and field.
 *
 * @returns nonce ‖ ciphertext ‖ tag
 */
export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = freshNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Opens what `seal` produced; throws on any change to the bytes, the key or the AAD. */
export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('ciphertext too short');
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}
