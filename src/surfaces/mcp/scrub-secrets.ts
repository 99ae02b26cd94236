/**
 * A second line of defence for tool results. Outputs are already schema-checked by the
 * registry (records carry `hasSecrets`, never values), so this should never change
 * anything; it exists so that a future contract mistake cannot put a secret into an
 * agent's context. It replaces, with `[redacted]`:
 * - string values of properties named like a secret (`clientSecret`, `accessToken`, …),
 * - every string inside a `secrets` object,
 * - strings shaped like a Latchkey API key (`lk_` + 43 base64url characters).
 */
export const REDACTED = '[redacted]';

const SECRET_NAMES = new Set([
  'clientsecret',
  'accesstoken',
  'refreshtoken',
  'password',
  'passphrase',
  'privatekey',
  'apikey',
  'token',
  'tokensecret',
  'secretaccesskey',
  'sessiontoken',
  'adminkey',
  'secret',
]);

const API_KEY_SHAPE = /lk_[A-Za-z0-9_-]{43}/;

const isSecretName = (name: string): boolean => SECRET_NAMES.has(name.toLowerCase().replace(/[_-]/g, ''));

export function scrubSecrets(value: unknown, insideSecrets = false): unknown {
  if (typeof value === 'string') return insideSecrets || API_KEY_SHAPE.test(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v, insideSecrets));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    const secretField = insideSecrets || name === 'secrets' || isSecretName(name);
    out[name] = secretField && typeof v === 'string' ? REDACTED : scrubSecrets(v, insideSecrets || name === 'secrets');
  }
  return out;
}
