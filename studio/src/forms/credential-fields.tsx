import type { Connection, Provider } from '../api/types.js';
import type { FieldErrorMap } from '../api/problems.js';
import { Field, fieldProps } from '../components/field.js';
import { errorAt } from './errors.js';
import { humanize, splitList } from './parameter-values.js';
import { type SecretChanges, SecretField } from './secret-field.js';

type CredentialType = Connection['credentials']['type'];

/** The non-secret token metadata a form edits next to the secrets. */
export interface TokenMeta {
  expiresAt: string;
  scopes: string;
  tokenType: string;
}

const HINTS: Record<string, string> = {
  accessToken: 'The OAuth access token.',
  refreshToken: 'Lets Latchkey refresh the access token before it expires.',
  privateKey: 'PEM or OpenSSH private key.',
  passphrase: 'Only if the private key is encrypted.',
  sessionToken: 'Only for temporary AWS credentials.',
};

/** The fields of a credential type as the provider record declares them (its `credentials`). */
export const credentialFields = (type: CredentialType, provider: Provider) => provider.credentials.find((c) => c.type === type)?.fields ?? [];

/** The credential types a connection under this auth method may hold. */
export const credentialTypesFor = (provider: Provider, authMethod: string): CredentialType[] =>
  provider.credentials.filter((c) => c.authMethod === authMethod).map((c) => c.type);

/** `2030-01-01T10:00:00Z` → the `datetime-local` value in this browser's time zone. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export const tokenMetaOf = (connection?: Connection): TokenMeta => ({
  expiresAt: toLocalInput(connection?.credentials.expiresAt),
  scopes: connection?.credentials.scopes?.join(' ') ?? '',
  tokenType: '',
});

/**
 * The credential fields of one type, as the provider record declares them (the canonical
 * table of SPEC section 4, or for `custom` the provider's connection-level secret
 * parameters). Secrets go through the
 * write-only SecretField; expiry, scopes and token type are plain inputs.
 */
export function CredentialFields({
  type,
  provider,
  connection,
  secrets,
  meta,
  onMeta,
  errors,
  creating,
}: {
  type: CredentialType;
  provider: Provider;
  connection?: Connection;
  secrets: SecretChanges;
  meta: TokenMeta;
  onMeta: (meta: TokenMeta) => void;
  errors: FieldErrorMap;
  creating: boolean;
}) {
  const fields = credentialFields(type, provider);
  const described = new Map(provider.parameters.filter((p) => p.level === 'connection').map((p) => [p.name, p]));
  return (
    <>
      {fields
        .filter((f) => f.secret)
        .map((f) => {
          const param = described.get(f.name);
          return (
            <SecretField
              key={`${type}:${f.name}`}
              spec={{
                name: f.name,
                label: param?.displayName ?? humanize(f.name),
                description: param?.description || HINTS[f.name],
                required: f.required,
                multiline: f.name === 'privateKey' || param?.uiHint === 'multiline-secret',
              }}
              isSet={connection?.credentials.hasSecrets[f.name] === true}
              control={secrets}
              creating={creating}
              error={errorAt(errors, `credentials.${f.name}`)}
              path={`credentials.${f.name}`}
            />
          );
        })}
      {fields.some((f) => !f.secret) ? (
        <div className="grid-3">
          {fields.some((f) => f.name === 'expiresAt') ? (
            <Field label="Expires at" hint="In your time zone; leave empty if it does not expire." error={errorAt(errors, 'credentials.expiresAt')}>
              {(ids) => <input {...fieldProps(ids)} type="datetime-local" className="input" value={meta.expiresAt} onChange={(e) => onMeta({ ...meta, expiresAt: e.target.value })} />}
            </Field>
          ) : null}
          {fields.some((f) => f.name === 'scopes') ? (
            <Field label="Scopes" hint="Separated by spaces or commas." error={errorAt(errors, 'credentials.scopes')}>
              {(ids) => <input {...fieldProps(ids)} className="input mono" value={meta.scopes} onChange={(e) => onMeta({ ...meta, scopes: e.target.value })} autoComplete="off" spellCheck={false} />}
            </Field>
          ) : null}
          {fields.some((f) => f.name === 'tokenType') ? (
            <Field label="Token type" hint={creating ? 'Usually Bearer.' : 'Leave empty to keep it.'} error={errorAt(errors, 'credentials.tokenType')}>
              {(ids) => <input {...fieldProps(ids)} className="input" value={meta.tokenType} onChange={(e) => onMeta({ ...meta, tokenType: e.target.value })} placeholder="Bearer" autoComplete="off" />}
            </Field>
          ) : null}
        </div>
      ) : null}
    </>
  );
}

/**
 * The non-secret part of a credentials body: on create every filled field; on update only
 * what differs from the connection.
 */
export function tokenMetaChanges(type: CredentialType, provider: Provider, meta: TokenMeta, connection?: Connection): Record<string, string | string[] | null> {
  const names = new Set(credentialFields(type, provider).filter((f) => !f.secret).map((f) => f.name));
  const out: Record<string, string | string[] | null> = {};
  if (names.has('expiresAt')) {
    const iso = meta.expiresAt ? new Date(meta.expiresAt).toISOString() : null;
    const before = connection?.credentials.expiresAt ?? null;
    if (connection ? toLocalInput(iso) !== toLocalInput(before) : iso) out.expiresAt = iso;
  }
  if (names.has('scopes')) {
    const scopes = splitList(meta.scopes);
    const before = connection?.credentials.scopes ?? [];
    if (connection ? scopes.join(' ') !== before.join(' ') : scopes.length > 0) out.scopes = scopes.length > 0 ? scopes : connection ? null : [];
  }
  if (names.has('tokenType') && meta.tokenType.trim()) out.tokenType = meta.tokenType.trim();
  return out;
}
