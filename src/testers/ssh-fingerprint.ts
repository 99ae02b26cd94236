import { createHash } from 'node:crypto';

/**
 * The OpenSSH SHA-256 fingerprint of a public host key blob, as `ssh-keygen -lf` prints it:
 * `SHA256:` and unpadded base64.
 *
 * @example
 * ```ts
 * sshFingerprint(hostKeyBlob); // 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s'
 * ```
 */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Whether a configured fingerprint is in the `SHA256:<base64>` form (padding optional). */
export function isSha256Fingerprint(text: string): boolean {
  return /^SHA256:[A-Za-z0-9+/]{43}=?$/.test(text.trim());
}

/**
 * Compares fingerprints ignoring base64 padding and surrounding space; base64 itself is
 * case-sensitive, so nothing else is normalized.
 *
 * @example
 * ```ts
 * sameFingerprint('SHA256:abc…=', 'SHA256:abc…'); // true
 * ```
 */
export function sameFingerprint(a: string, b: string): boolean {
  const normalize = (f: string) => f.trim().replace(/=+$/, '');
  return normalize(a) === normalize(b);
}
