import { type FormEvent, useMemo, useRef, useState } from 'react';
import { NO_ERRORS, fieldErrorsOf } from '../api/problems.js';
import { useStudio } from '../api/studio-context.js';
import type { Integration, Provider } from '../api/types.js';
import { useAction } from '../api/use-load.js';
import { ProblemBanner } from '../components/feedback.js';
import { CheckField, Field, fieldProps, useFocusFirstInvalid } from '../components/field.js';
import { errorAt, mergeErrors } from './errors.js';
import { ParameterField } from './parameter-field.js';
import { type FormValue, configForCreate, configPatch, initialValue, splitList } from './parameter-values.js';
import { SecretField, useSecretChanges } from './secret-field.js';

const KEY = /^[A-Za-z0-9_-]{1,64}$/;
type Scope = Integration['scope'];
type AuthMethod = Integration['authMethod'];

const lines = (text: string) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

/**
 * Create or edit an integration. The provider's parameter metadata decides the fields:
 * integration-level parameters of the chosen auth method, non-secret ones into `config`,
 * secret ones as write-only inputs. An edit sends only what changed (PATCH, with
 * If-Match), so untouched secrets carry forward.
 */
export function IntegrationForm({
  provider,
  existing,
  onSaved,
  onCancel,
  onReload,
  readOnly,
}: {
  provider: Provider;
  existing?: Integration;
  onSaved: (record: Integration) => void;
  onCancel?: () => void;
  onReload?: () => void;
  readOnly?: boolean;
}) {
  const { lk, notify } = useStudio();
  const creating = !existing;
  const formRef = useRef<HTMLFormElement>(null);
  const [key, setKey] = useState('');
  const [displayName, setDisplayName] = useState(existing?.displayName ?? provider.displayName);
  const [description, setDescription] = useState(existing?.description ?? '');
  const [authMethod, setAuthMethod] = useState<AuthMethod>(existing?.authMethod ?? (provider.authMethods[0] as AuthMethod));
  const [scope, setScope] = useState<Scope>(existing?.scope ?? 'global');
  const [workspaceId, setWorkspaceId] = useState(existing?.workspaceId ?? '');
  const [ownerUserId, setOwnerUserId] = useState(existing?.ownerUserId ?? '');
  const [tags, setTags] = useState(existing?.tags.join(', ') ?? '');
  const [allowList, setAllowList] = useState(existing?.networkAllowList.join('\n') ?? '');
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [allowReveal, setAllowReveal] = useState(existing?.allowReveal ?? false);
  const [values, setValues] = useState<Record<string, FormValue>>({});
  const [localErrors, setLocalErrors] = useState<Map<string, string>>(new Map());
  const secrets = useSecretChanges();
  const action = useAction();
  useFocusFirstInvalid(formRef, action.error, localErrors);

  const params = useMemo(
    () => provider.parameters.filter((p) => p.level === 'integration' && (!p.authMethods || p.authMethods.includes(authMethod))),
    [provider, authMethod],
  );
  const configParams = params.filter((p) => !p.secret);
  const secretParams = params.filter((p) => p.secret);
  const valueOf = (name: string): FormValue => {
    const param = params.find((p) => p.name === name)!;
    return values[name] ?? initialValue(param, existing?.config[name]);
  };
  const allValues = Object.fromEntries(configParams.map((p) => [p.name, valueOf(p.name)]));
  const errors = mergeErrors(action.error ? fieldErrorsOf(action.error) : NO_ERRORS, localErrors);
  const shownPaths = new Set(['key', 'displayName', 'description', 'authMethod', 'scope', 'workspaceId', 'ownerUserId', 'tags', 'networkAllowList', 'enabled', 'allowReveal', ...configParams.map((p) => `config.${p.name}`), ...secretParams.map((p) => `secrets.${p.name}`)]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local = new Map<string, string>();
    if (creating && !KEY.test(key)) local.set('key', key ? 'use 1–64 letters, digits, - or _' : 'is required');
    if (!displayName.trim()) local.set('displayName', 'is required');
    if (scope === 'workspace' && !workspaceId.trim()) local.set('workspaceId', 'is required for workspace scope');
    if (scope === 'user' && !ownerUserId.trim()) local.set('ownerUserId', 'is required for user scope');
    const cfg = creating ? configForCreate(configParams, allValues) : configPatch(configParams, allValues, existing.config);
    for (const [p, m] of cfg.errors) local.set(p, m);
    const { changes, empty } = secrets.collect(creating);
    for (const name of empty) local.set(`secrets.${name}`, 'enter the new value, or Cancel to keep the stored one');
    setLocalErrors(local);
    if (local.size > 0) {
      action.setError(undefined);
      return;
    }
    const tagList = splitList(tags);
    const allow = lines(allowList);
    const saved = await action.run(async () => {
      if (creating) {
        return lk.createIntegration({
          key,
          provider: provider.key,
          displayName: displayName.trim(),
          ...(description.trim() ? { description: description.trim() } : {}),
          authMethod,
          scope,
          ...(scope === 'workspace' ? { workspaceId: workspaceId.trim() } : {}),
          ...(scope === 'user' ? { ownerUserId: ownerUserId.trim() } : {}),
          config: cfg.config,
          ...(Object.keys(changes).length > 0 ? { secrets: changes } : {}),
          enabled,
          tags: tagList,
          allowReveal,
          networkAllowList: allow,
        });
      }
      const patch: Parameters<typeof lk.updateIntegration>[0] = { key: existing.key };
      if (displayName.trim() !== existing.displayName) patch.displayName = displayName.trim();
      if ((description.trim() || null) !== existing.description) patch.description = description.trim() || null;
      if (authMethod !== existing.authMethod) patch.authMethod = authMethod;
      if (scope !== existing.scope) patch.scope = scope;
      if (scope === 'workspace' && workspaceId.trim() !== (existing.workspaceId ?? '')) patch.workspaceId = workspaceId.trim();
      if (scope === 'user' && ownerUserId.trim() !== (existing.ownerUserId ?? '')) patch.ownerUserId = ownerUserId.trim();
      if (scope !== existing.scope && scope !== 'workspace' && existing.workspaceId) patch.workspaceId = null;
      if (scope !== existing.scope && scope !== 'user' && existing.ownerUserId) patch.ownerUserId = null;
      if (tagList.join('\n') !== existing.tags.join('\n')) patch.tags = tagList;
      if (allow.join('\n') !== existing.networkAllowList.join('\n')) patch.networkAllowList = allow;
      if (enabled !== existing.enabled) patch.enabled = enabled;
      if (allowReveal !== existing.allowReveal) patch.allowReveal = allowReveal;
      if (Object.keys(cfg.config).length > 0) patch.config = cfg.config;
      if (Object.keys(changes).length > 0) patch.secrets = changes;
      return lk.updateIntegration(patch, { ifMatch: existing.version });
    });
    if (saved) {
      secrets.reset();
      setValues({});
      notify(creating ? `Integration ${saved.key} created` : 'Changes saved');
      onSaved(saved);
    }
  };

  return (
    <form ref={formRef} className="form" onSubmit={submit} noValidate aria-label={creating ? 'New integration' : 'Integration settings'}>
      <ProblemBanner error={action.error} shownPaths={shownPaths} onDismiss={() => action.setError(undefined)} onReload={onReload} />
      <fieldset disabled={readOnly || action.busy} className="form-sections">
        <fieldset className="form-section">
          <legend>Basics</legend>
          <div className="grid-2">
            {creating ? (
              <Field label="Key" required hint="Unique in your tenant; used in API paths. Letters, digits, - and _." error={errorAt(errors, 'key')}>
                {(ids) => (
                  <input
                    {...fieldProps(ids)}
                    name="key"
                    className="input mono"
                    value={key}
                    onChange={(e) => setKey(e.target.value)}
                    placeholder={`${provider.key.replace(/_/g, '-')}-prod`}
                    autoComplete="off"
                    spellCheck={false}
                    autoFocus
                  />
                )}
              </Field>
            ) : null}
            <Field label="Display name" required error={errorAt(errors, 'displayName')}>
              {(ids) => <input {...fieldProps(ids)} name="displayName" className="input" value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={100} />}
            </Field>
          </div>
          <Field label="Description" error={errorAt(errors, 'description')} hint="Optional, up to 500 characters.">
            {(ids) => <textarea {...fieldProps(ids)} name="description" className="input" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} />}
          </Field>
        </fieldset>

        <fieldset className="form-section">
          <legend>Authentication and settings</legend>
          <Field label="Auth method" error={errorAt(errors, 'authMethod')} hint={`Methods ${provider.displayName} supports.`}>
            {(ids) => (
              <select {...fieldProps(ids)} name="authMethod" className="input" value={authMethod} onChange={(e) => setAuthMethod(e.target.value as AuthMethod)}>
                {provider.authMethods.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {configParams.length === 0 ? <p className="muted small">No settings for this auth method.</p> : null}
          <div className="grid-2">
            {configParams.map((p) => (
              <ParameterField key={p.name} param={p} value={valueOf(p.name)} onChange={(v) => setValues((s) => ({ ...s, [p.name]: v }))} error={errorAt(errors, `config.${p.name}`)} />
            ))}
          </div>
        </fieldset>

        {secretParams.length > 0 ? (
          <fieldset className="form-section">
            <legend>Secrets</legend>
            <p className="muted small section-note">Write-only: stored encrypted and never shown again. Leave a stored secret alone to keep it.</p>
            {secretParams.map((p) => (
              <SecretField
                key={p.name}
                spec={{ name: p.name, label: p.displayName, description: p.description, required: p.required, multiline: p.uiHint === 'multiline-secret' }}
                isSet={existing?.hasSecrets[p.name] === true}
                control={secrets}
                creating={creating}
                error={errorAt(errors, `secrets.${p.name}`)}
                path={`secrets.${p.name}`}
              />
            ))}
          </fieldset>
        ) : null}

        <fieldset className="form-section">
          <legend>Access</legend>
          <div className="grid-2">
            <Field label="Scope" error={errorAt(errors, 'scope')} hint="Who may use it: the whole tenant, one workspace or one user.">
              {(ids) => (
                <select {...fieldProps(ids)} name="scope" className="input" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
                  <option value="global">Global</option>
                  <option value="workspace">Workspace</option>
                  <option value="user">User</option>
                </select>
              )}
            </Field>
            {scope === 'workspace' ? (
              <Field label="Workspace id" required error={errorAt(errors, 'workspaceId')}>
                {(ids) => <input {...fieldProps(ids)} name="workspaceId" className="input mono" value={workspaceId} onChange={(e) => setWorkspaceId(e.target.value)} />}
              </Field>
            ) : null}
            {scope === 'user' ? (
              <Field label="Owner user id" required error={errorAt(errors, 'ownerUserId')}>
                {(ids) => <input {...fieldProps(ids)} name="ownerUserId" className="input mono" value={ownerUserId} onChange={(e) => setOwnerUserId(e.target.value)} />}
              </Field>
            ) : null}
          </div>
          <div className="grid-2">
            <Field label="Tags" error={errorAt(errors, 'tags')} hint="Separated by commas or spaces, e.g. prod, billing.">
              {(ids) => <input {...fieldProps(ids)} name="tags" className="input" value={tags} onChange={(e) => setTags(e.target.value)} autoComplete="off" />}
            </Field>
            <Field label="Private network allow-list" error={errorAt(errors, 'networkAllowList')} hint="Private hosts or CIDRs this integration may reach, one per line.">
              {(ids) => <textarea {...fieldProps(ids)} name="networkAllowList" className="input mono" rows={2} value={allowList} onChange={(e) => setAllowList(e.target.value)} spellCheck={false} />}
            </Field>
          </div>
          <CheckField label="Enabled" hint="A disabled integration mints and proxies nothing." checked={enabled} onChange={setEnabled} error={errorAt(errors, 'enabled')} />
          <CheckField
            label="Allow credential reveal"
            hint="Lets keys granted platform.credential.reveal read this integration's connection credentials, audited."
            checked={allowReveal}
            onChange={setAllowReveal}
            error={errorAt(errors, 'allowReveal')}
          />
        </fieldset>
      </fieldset>
      {readOnly ? null : (
        <div className="form-actions">
          {onCancel ? (
            <button type="button" className="btn btn-secondary" onClick={onCancel}>
              Cancel
            </button>
          ) : null}
          <button type="submit" className="btn btn-primary" disabled={action.busy}>
            {action.busy ? 'Saving…' : creating ? 'Create integration' : 'Save changes'}
          </button>
        </div>
      )}
    </form>
  );
}
