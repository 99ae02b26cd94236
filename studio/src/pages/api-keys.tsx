import { type FormEvent, useRef, useState } from 'react';
import { POLICY_KEYS, ROLES, rolePolicies, type GrantablePolicyKey, type Role } from '../../../src/contracts/policies.js';
import { messageOf } from '../api/problems.js';
import { useStudio } from '../api/studio-context.js';
import type { ApiKey } from '../api/types.js';
import { useAction, usePaged } from '../api/use-load.js';
import { useFormErrors } from '../forms/use-form-errors.js';
import { LoadMore } from '../components/load-more.js';
import { Badge } from '../components/badge.js';
import { CopyField } from '../components/copy-field.js';
import { ConfirmDialog, Dialog } from '../components/dialog.js';
import { EmptyState, Loading, Notice, ProblemBanner } from '../components/feedback.js';
import { CheckField, Field, fieldProps } from '../components/field.js';
import { Icon } from '../components/icons.js';
import { PageHeader } from '../components/page-header.js';
import { RelativeTime } from '../components/time.js';
import { errorAt } from '../forms/errors.js';

const ROLE_TEXT: Record<Role, string> = {
  admin: 'Everything in the tenant except revealing credentials.',
  operator: 'Manage integrations and connections.',
  runtime: 'Read and use connections (mint tokens, proxy).',
  viewer: 'Read integrations, connections and the audit log.',
};

/** API keys: create one with a role (the key is shown once), list and revoke. */
export function ApiKeysPage() {
  const { lk, access, notify } = useStudio();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const list = usePaged((c, cursor) => c.listApiKeys({ limit: 100, includeRevoked, ...(cursor ? { cursor } : {}) }), [includeRevoked]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ key: string; apiKey: ApiKey } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const revoke = useAction();

  const doRevoke = async () => {
    if (!revoking) return;
    const done = await revoke.run(() => lk.revokeApiKey({ id: revoking.id }));
    if (done) {
      notify(`Key ${done.name} revoked`);
      setRevoking(null);
      list.reload();
    }
  };

  return (
    <>
      <PageHeader
        title="API keys"
        subtitle="Who can call the API. Keys are stored only as hashes and shown once, when created."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            <Icon name="plus" size={16} />
            New API key
          </button>
        }
      />
      {created ? (
        <div className="reveal-once" data-testid="new-key">
          <Notice tone="success">
            <strong>Key “{created.apiKey.name}” created.</strong> Copy it now: it is shown only this once and cannot be recovered.
          </Notice>
          <CopyField label="API key" value={created.key} testId="new-key-value" />
          <button type="button" className="btn btn-secondary" onClick={() => setCreated(null)}>
            I have stored it
          </button>
        </div>
      ) : null}
      <div className="filters">
        <CheckField label="Show revoked keys" checked={includeRevoked} onChange={setIncludeRevoked} />
      </div>
      <ProblemBanner error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading />
      ) : list.items.length === 0 && !list.error ? (
        <EmptyState title="No API keys" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col" className="hide-sm">
                  Key
                </th>
                <th scope="col" className="hide-sm">
                  Created
                </th>
                <th scope="col" className="hide-sm">
                  Expires
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((k) => (
                <tr key={k.id} data-key-name={k.name} className={k.revokedAt ? 'row-muted' : undefined}>
                  <td>
                    <strong>{k.name}</strong>
                    {k.id === access.keyId ? <Badge tone="info">you</Badge> : null}
                    {k.revokedAt ? <Badge tone="muted">revoked</Badge> : null}
                    <div className="mono muted small">{k.id}</div>
                  </td>
                  <td>
                    <Badge tone={k.role === 'admin' ? 'warning' : 'neutral'}>{k.role}</Badge>
                    {k.policies.length > 0 ? <div className="muted small">+ {k.policies.join(', ')}</div> : null}
                  </td>
                  <td className="hide-sm mono small">{k.prefix}…</td>
                  <td className="hide-sm">
                    <RelativeTime at={k.createdAt} />
                  </td>
                  <td className="hide-sm">{k.expiresAt ? <RelativeTime at={k.expiresAt} /> : <span className="muted">never</span>}</td>
                  <td className="cell-actions">
                    {!k.revokedAt && k.id !== access.keyId ? (
                      <button type="button" className="btn btn-small btn-ghost-danger" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} />
      <Dialog open={creating} title="New API key" onClose={() => setCreating(false)} wide>
        <CreateKeyForm
          onCancel={() => setCreating(false)}
          onCreated={(result) => {
            setCreating(false);
            setCreated(result);
            list.reload();
          }}
        />
      </Dialog>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? ''}?`}
        confirmLabel="Revoke key"
        danger
        busy={revoke.busy}
        onConfirm={doRevoke}
        onClose={() => {
          setRevoking(null);
          revoke.setError(undefined);
        }}
      >
        <p>Calls with this key fail from now on. This cannot be undone.</p>
        {revoke.error ? <p className="field-error">{messageOf(revoke.error)}</p> : null}
      </ConfirmDialog>
    </>
  );
}

function CreateKeyForm({ onCreated, onCancel }: { onCreated: (r: { key: string; apiKey: ApiKey }) => void; onCancel: () => void }) {
  const { lk } = useStudio();
  const formRef = useRef<HTMLFormElement>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('runtime');
  const [extra, setExtra] = useState<GrantablePolicyKey[]>([]);
  const [userId, setUserId] = useState('');
  const [workspaceId, setWorkspaceId] = useState('');
  const [expiresAt, setExpiresAt] = useState('');
  const { action, setLocal, errors } = useFormErrors(formRef);
  const included = new Set(rolePolicies(role));
  const grantable = POLICY_KEYS.filter((p) => !included.has(p) && p !== 'platform.tenant.manage');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const errs = new Map<string, string>();
    if (!name.trim()) errs.set('name', 'is required');
    setLocal(errs);
    if (errs.size > 0) return;
    const result = await action.run(() =>
      lk.createApiKey({
        name: name.trim(),
        role,
        policies: extra.filter((p) => !included.has(p)),
        ...(userId.trim() ? { userId: userId.trim() } : {}),
        ...(workspaceId.trim() ? { workspaceId: workspaceId.trim() } : {}),
        ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
      }),
    );
    if (result) onCreated(result);
  };

  return (
    <form ref={formRef} onSubmit={submit} noValidate className="form" aria-label="New API key">
      <ProblemBanner error={action.error} shownPaths={new Set(['name', 'role', 'policies', 'userId', 'workspaceId', 'expiresAt'])} />
      <fieldset disabled={action.busy} className="form-sections">
        <Field label="Name" required hint="What uses it, e.g. billing-worker." error={errorAt(errors, 'name')}>
          {(ids) => <input {...fieldProps(ids)} name="name" className="input" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoFocus autoComplete="off" />}
        </Field>
        <fieldset className="radio-group">
          <legend className="field-label">Role</legend>
          {ROLES.map((r) => (
            <label key={r} className={`radio-card${role === r ? ' radio-card-active' : ''}`}>
              <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} />
              <span>
                <strong>{r}</strong>
                <span className="muted small">{ROLE_TEXT[r]}</span>
              </span>
            </label>
          ))}
          {errorAt(errors, 'role') ? <p className="field-error">{errorAt(errors, 'role')}</p> : null}
        </fieldset>
        <details className="more-options">
          <summary>More options</summary>
          <fieldset className="checks">
            <legend className="field-label">Extra grants</legend>
            {grantable.map((p) => (
              <CheckField key={p} label={<code>{p}</code>} checked={extra.includes(p)} onChange={(on) => setExtra((list) => (on ? [...list, p] : list.filter((x) => x !== p)))} />
            ))}
            {errorAt(errors, 'policies') ? <p className="field-error">{errorAt(errors, 'policies')}</p> : null}
          </fieldset>
          <div className="grid-3">
            <Field label="User id" hint="Restricts the key to this user’s records." error={errorAt(errors, 'userId')}>
              {(ids) => <input {...fieldProps(ids)} className="input mono" value={userId} onChange={(e) => setUserId(e.target.value)} />}
            </Field>
            <Field label="Workspace id" hint="Restricts the key to one workspace." error={errorAt(errors, 'workspaceId')}>
              {(ids) => <input {...fieldProps(ids)} className="input mono" value={workspaceId} onChange={(e) => setWorkspaceId(e.target.value)} />}
            </Field>
            <Field label="Expires at" hint="Empty: never." error={errorAt(errors, 'expiresAt')}>
              {(ids) => <input {...fieldProps(ids)} type="datetime-local" className="input" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} />}
            </Field>
          </div>
        </details>
      </fieldset>
      <div className="form-actions">
        <button type="button" className="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}
