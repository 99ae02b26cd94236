import { type FormEvent, useRef, useState } from 'react';
import { LatchkeyProblem } from '../../../src/surfaces/client/index.js';
import { useStudio } from '../api/studio-context.js';
import type { Connection, Provider } from '../api/types.js';
import { useFormErrors } from '../forms/use-form-errors.js';
import { ProblemBanner } from '../components/feedback.js';
import { CheckField, Field, fieldProps } from '../components/field.js';
import { Panel } from '../components/page-header.js';
import type { ResultLike } from '../components/test-result.js';
import { CredentialFields, type TokenMeta, tokenMetaChanges, tokenMetaOf } from '../forms/credential-fields.js';
import { errorAt } from '../forms/errors.js';
import { labelsToText, parseObject, textToLabels } from '../forms/labels.js';
import { ParameterField } from '../forms/parameter-field.js';
import { type FormValue, configPatch, initialValue } from '../forms/parameter-values.js';
import { useSecretChanges } from '../forms/secret-field.js';

/*
 * The small forms of a connection's page. Each saves only its own fields, with If-Match
 * on the version it was rendered from; the page re-mounts them on every new version.
 */

/** Credentials: "set / not set" per field with Replace and Remove; optional test before saving. */
export function CredentialsPanel({ record, provider, onSaved, onReload, readOnly, onTestResult }: { record: Connection; provider: Provider; onSaved: (c: Connection) => void; onReload: () => void; readOnly: boolean; onTestResult: (r: ResultLike) => void }) {
  const { lk, notify } = useStudio();
  const formRef = useRef<HTMLFormElement>(null);
  const secrets = useSecretChanges();
  const [meta, setMeta] = useState<TokenMeta>(tokenMetaOf(record));
  const [verify, setVerify] = useState(true);
  const { action, setLocal, errors } = useFormErrors(formRef);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { changes, empty } = secrets.collect(false);
    const errs = new Map(empty.map((name) => [`credentials.${name}`, 'enter the new value, or Cancel to keep the stored one']));
    setLocal(errs);
    if (errs.size > 0) return;
    const credentials = { ...tokenMetaChanges(record.credentials.type, provider, meta, record), ...changes };
    if (Object.keys(credentials).length === 0) {
      notify('Nothing to save: choose Replace or Remove on a field first', 'info');
      return;
    }
    const saved = await action.run(() => lk.updateConnection({ key: record.integration, id: record.id, credentials, verify }, { ifMatch: record.version }));
    if (saved) {
      secrets.reset();
      notify('Credentials saved');
      onSaved(saved);
    } else {
      const error = action.lastError();
      const failed = error instanceof LatchkeyProblem ? (error.problem.testResult as ResultLike | undefined) : undefined;
      if (failed) onTestResult(failed);
    }
  };

  return (
    <Panel title="Credentials" description={<>Write-only. Untouched fields keep their stored values; Remove clears one.</>} id="credentials">
      <form ref={formRef} onSubmit={submit} noValidate className="form" aria-label="Credentials">
        <ProblemBanner error={action.error} shownPaths={new Set(['credentials'])} onDismiss={() => action.setError(undefined)} onReload={onReload} />
        <fieldset disabled={readOnly || action.busy} className="form-sections">
          <CredentialFields type={record.credentials.type} provider={provider} connection={record} secrets={secrets} meta={meta} onMeta={setMeta} errors={errors} creating={false} />
          {readOnly ? null : <CheckField label="Test the new credentials before saving" hint="Saves only if the provider’s live test passes." checked={verify} onChange={setVerify} />}
        </fieldset>
        {readOnly ? null : (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={action.busy}>
              {action.busy ? 'Saving…' : 'Save credentials'}
            </button>
          </div>
        )}
      </form>
    </Panel>
  );
}

/** The provider's connection-level settings (host, port, …), when it has any. */
export function SettingsPanel({ record, provider, authMethod, onSaved, onReload, readOnly }: { record: Connection; provider: Provider; authMethod: string | undefined; onSaved: (c: Connection) => void; onReload: () => void; readOnly: boolean }) {
  const { lk, notify } = useStudio();
  const params = provider.parameters.filter((p) => p.level === 'connection' && !p.secret && (!p.authMethods || !authMethod || p.authMethods.includes(authMethod as never)));
  const [values, setValues] = useState<Record<string, FormValue>>(() => Object.fromEntries(params.map((p) => [p.name, initialValue(p, record.config[p.name])])));
  const { action, setLocal, errors } = useFormErrors();
  if (params.length === 0) return null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { config, errors: errs } = configPatch(params, values, record.config);
    setLocal(errs);
    if (errs.size > 0 || Object.keys(config).length === 0) return;
    const saved = await action.run(() => lk.updateConnection({ key: record.integration, id: record.id, config }, { ifMatch: record.version }));
    if (saved) {
      notify('Settings saved');
      onSaved(saved);
    }
  };
  return (
    <Panel title="Settings" id="settings">
      <form onSubmit={submit} noValidate className="form" aria-label="Connection settings">
        <ProblemBanner error={action.error} shownPaths={new Set(['config'])} onReload={onReload} />
        <fieldset disabled={readOnly || action.busy} className="form-sections">
          <div className="grid-2">
            {params.map((p) => (
              <ParameterField key={p.name} param={p} value={values[p.name]!} onChange={(v) => setValues((s) => ({ ...s, [p.name]: v }))} error={errorAt(errors, `config.${p.name}`)} />
            ))}
          </div>
        </fieldset>
        {readOnly ? null : (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={action.busy}>
              Save settings
            </button>
          </div>
        )}
      </form>
    </Panel>
  );
}

/** Metadata (a JSON object the application reads back) and labels (key=value). */
export function MetadataPanel({ record, onSaved, onReload, readOnly }: { record: Connection; onSaved: (c: Connection) => void; onReload: () => void; readOnly: boolean }) {
  const { lk, notify } = useStudio();
  const [metadata, setMetadata] = useState(() => JSON.stringify(record.metadata, null, 2));
  const [labels, setLabels] = useState(() => labelsToText(record.labels));
  const { action, setLocal, errors } = useFormErrors();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const md = parseObject(metadata);
    const lb = textToLabels(labels);
    const errs = new Map<string, string>();
    if (md.error) errs.set('metadata', md.error);
    if (lb.error) errs.set('labels', lb.error);
    setLocal(errs);
    if (errs.size > 0) return;
    const saved = await action.run(() => lk.updateConnection({ key: record.integration, id: record.id, metadata: md.value, labels: lb.labels }, { ifMatch: record.version }));
    if (saved) {
      notify('Metadata saved');
      onSaved(saved);
    }
  };
  return (
    <Panel title="Metadata and labels" id="metadata">
      <form onSubmit={submit} noValidate className="form" aria-label="Metadata and labels">
        <ProblemBanner error={action.error} shownPaths={new Set(['metadata', 'labels'])} onReload={onReload} />
        <fieldset disabled={readOnly || action.busy} className="form-sections">
          <div className="grid-2">
            <Field label="Metadata" hint="JSON object, up to 16 KiB. Saving replaces the whole object." error={errorAt(errors, 'metadata')}>
              {(ids) => <textarea {...fieldProps(ids)} name="metadata" className="input mono" rows={8} value={metadata} onChange={(e) => setMetadata(e.target.value)} spellCheck={false} />}
            </Field>
            <Field label="Labels" hint="One key=value per line." error={errorAt(errors, 'labels')}>
              {(ids) => <textarea {...fieldProps(ids)} name="labels" className="input mono" rows={8} value={labels} onChange={(e) => setLabels(e.target.value)} spellCheck={false} />}
            </Field>
          </div>
        </fieldset>
        {readOnly ? null : (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={action.busy}>
              Save metadata
            </button>
          </div>
        )}
      </form>
    </Panel>
  );
}
