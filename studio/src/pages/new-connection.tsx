import { type FormEvent, useMemo, useRef, useState } from 'react';
import { NO_ERRORS, fieldErrorsOf } from '../api/problems.js';
import { useStudio } from '../api/studio-context.js';
import type { Connection, TestResult } from '../api/types.js';
import { useAction, useLoad } from '../api/use-load.js';
import { EmptyState, Loading, Notice, ProblemBanner } from '../components/feedback.js';
import { CheckField, Field, fieldProps, useFocusFirstInvalid } from '../components/field.js';
import { PageHeader, Panel } from '../components/page-header.js';
import { TestResultView } from '../components/test-result.js';
import { CredentialFields, type TokenMeta, credentialTypesFor, tokenMetaChanges, tokenMetaOf } from '../forms/credential-fields.js';
import { errorAt, mergeErrors } from '../forms/errors.js';
import { parseObject, textToLabels } from '../forms/labels.js';
import { ParameterField } from '../forms/parameter-field.js';
import { type FormValue, configForCreate, initialValue } from '../forms/parameter-values.js';
import { useSecretChanges } from '../forms/secret-field.js';
import { isNotFound } from '../api/problems.js';
import { Link, pathOf, useRouter } from '../router.js';

const CONNECTION_ID = /^[A-Za-z0-9._:@-]{1,255}$/;
type CredentialType = Connection['credentials']['type'];

/**
 * Add (import) a connection: its id, typed credentials for the integration's auth method,
 * the provider's connection-level settings, metadata and labels. "Test credentials" runs
 * the provider's live test on the unsaved values first; nothing is stored by it.
 */
export function NewConnectionPage({ integrationKey }: { integrationKey: string }) {
  const { lk, can, notify } = useStudio();
  const { navigate } = useRouter();
  const loaded = useLoad(async (c) => {
    const integration = await c.getIntegration({ key: integrationKey });
    return { integration, provider: await c.getProvider({ provider: integration.provider }) };
  }, [integrationKey]);
  const formRef = useRef<HTMLFormElement>(null);
  const [id, setId] = useState('');
  const [type, setType] = useState<CredentialType | null>(null);
  const [meta, setMeta] = useState<TokenMeta>(tokenMetaOf());
  const [values, setValues] = useState<Record<string, FormValue>>({});
  const [metadata, setMetadata] = useState('');
  const [labels, setLabels] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [local, setLocal] = useState<Map<string, string>>(new Map());
  const [tested, setTested] = useState<TestResult | null>(null);
  const secrets = useSecretChanges();
  const action = useAction();
  useFocusFirstInvalid(formRef, action.error, local);
  const crumbs = [
    { label: 'Integrations', to: '/integrations' },
    { label: integrationKey, to: `${pathOf('integrations', integrationKey)}?tab=connections` },
    { label: 'New connection' },
  ];

  const types = useMemo(() => (loaded.data ? credentialTypesFor(loaded.data.provider, loaded.data.integration.authMethod) : []), [loaded.data]);
  const configParams = useMemo(
    () =>
      loaded.data
        ? loaded.data.provider.parameters.filter(
            (p) => p.level === 'connection' && !p.secret && (!p.authMethods || p.authMethods.includes(loaded.data!.integration.authMethod)),
          )
        : [],
    [loaded.data],
  );

  if (!can('platform.connection.manage')) {
    return (
      <>
        <PageHeader title="New connection" crumbs={crumbs} />
        <Notice tone="warning">Your API key’s role cannot add connections.</Notice>
      </>
    );
  }
  if (loaded.error) {
    return (
      <>
        <PageHeader title="New connection" crumbs={crumbs} />
        {isNotFound(loaded.error) ? <EmptyState title="Integration not found" action={<Link to="/integrations">Back to integrations</Link>} /> : <ProblemBanner error={loaded.error} />}
      </>
    );
  }
  if (!loaded.data) return <Loading />;
  const { integration, provider } = loaded.data;
  const credentialType = type ?? types[0] ?? 'api_key';
  const allValues = Object.fromEntries(configParams.map((p) => [p.name, values[p.name] ?? initialValue(p, undefined)]));
  const errors = mergeErrors(action.error ? fieldErrorsOf(action.error) : NO_ERRORS, local);
  const shown = new Set(['id', 'credentials', 'config', 'metadata', 'labels', 'enabled']);

  /** The body both buttons send, or null after showing what is wrong. */
  const build = (requireId: boolean) => {
    const errs = new Map<string, string>();
    if (requireId && !CONNECTION_ID.test(id)) errs.set('id', id ? 'use letters, digits and . _ : @ - (up to 255)' : 'is required');
    const cfg = configForCreate(configParams, allValues);
    for (const [p, m] of cfg.errors) errs.set(p, m);
    const md = parseObject(metadata);
    if (md.error) errs.set('metadata', md.error);
    const lb = textToLabels(labels);
    if (lb.error) errs.set('labels', lb.error);
    const { changes } = secrets.collect(true);
    setLocal(errs);
    if (errs.size > 0) {
      action.setError(undefined);
      return null;
    }
    return {
      config: cfg.config,
      metadata: md.value,
      labels: lb.labels,
      credentials: { type: credentialType, ...tokenMetaChanges(credentialType, provider, meta), ...(changes as Record<string, string>) },
    };
  };

  const test = async () => {
    setTested(null);
    const body = build(false);
    if (!body) return;
    const result = await action.run(() => lk.testCredentials({ integration: integration.key, config: body.config, credentials: body.credentials }));
    if (result) setTested(result);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = build(true);
    if (!body) return;
    const created = await action.run(() => lk.createConnection({ key: integration.key, id, enabled, ...body }));
    if (created) {
      secrets.reset();
      notify(`Connection ${created.id} created`);
      navigate(pathOf('integrations', integration.key, 'connections', created.id));
    }
  };

  return (
    <>
      <PageHeader title="New connection" subtitle={`Import credentials for one account under ${integration.displayName}.`} crumbs={crumbs} />
      <Panel>
        <form ref={formRef} className="form" onSubmit={submit} noValidate aria-label="New connection">
          <ProblemBanner error={action.error} shownPaths={shown} onDismiss={() => action.setError(undefined)} />
          <fieldset disabled={action.busy} className="form-sections">
            <fieldset className="form-section">
              <legend>Connection</legend>
              <div className="grid-2">
                <Field label="Connection id" required hint="Your id for the account, typically your user’s or customer’s id." error={errorAt(errors, 'id')}>
                  {(ids) => <input {...fieldProps(ids)} name="id" className="input mono" value={id} onChange={(e) => setId(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />}
                </Field>
                <Field label="Credential type" error={errorAt(errors, 'credentials.type')}>
                  {(ids) => (
                    <select {...fieldProps(ids)} name="credentialType" className="input" value={credentialType} onChange={(e) => setType(e.target.value as CredentialType)}>
                      {types.map((t) => (
                        <option key={t} value={t}>
                          {t}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              </div>
            </fieldset>
            <fieldset className="form-section">
              <legend>Credentials</legend>
              <p className="muted small section-note">Write-only: encrypted at rest and never shown again.</p>
              <CredentialFields type={credentialType} provider={provider} secrets={secrets} meta={meta} onMeta={setMeta} errors={errors} creating />
            </fieldset>
            {configParams.length > 0 ? (
              <fieldset className="form-section">
                <legend>Settings</legend>
                <div className="grid-2">
                  {configParams.map((p) => (
                    <ParameterField key={p.name} param={p} value={allValues[p.name]!} onChange={(v) => setValues((s) => ({ ...s, [p.name]: v }))} error={errorAt(errors, `config.${p.name}`)} />
                  ))}
                </div>
              </fieldset>
            ) : null}
            <fieldset className="form-section">
              <legend>Metadata and labels</legend>
              <div className="grid-2">
                <Field label="Metadata" hint="Free JSON object (up to 16 KiB) your application reads back." error={errorAt(errors, 'metadata')}>
                  {(ids) => <textarea {...fieldProps(ids)} name="metadata" className="input mono" rows={4} value={metadata} onChange={(e) => setMetadata(e.target.value)} placeholder='{"plan": "pro"}' spellCheck={false} />}
                </Field>
                <Field label="Labels" hint="One key=value per line, for filtering." error={errorAt(errors, 'labels')}>
                  {(ids) => <textarea {...fieldProps(ids)} name="labels" className="input mono" rows={4} value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="team=billing" spellCheck={false} />}
                </Field>
              </div>
              <CheckField label="Enabled" checked={enabled} onChange={setEnabled} error={errorAt(errors, 'enabled')} />
            </fieldset>
          </fieldset>
          {tested ? <TestResultView result={tested} title={tested.ok ? 'These credentials work' : 'These credentials failed the test'} onDismiss={() => setTested(null)} /> : null}
          <div className="form-actions">
            <Link to={`${pathOf('integrations', integration.key)}?tab=connections`} className="btn btn-secondary">
              Cancel
            </Link>
            <button type="button" className="btn btn-secondary" onClick={test} disabled={action.busy}>
              Test credentials
            </button>
            <button type="submit" className="btn btn-primary" disabled={action.busy}>
              {action.busy ? 'Working…' : 'Create connection'}
            </button>
          </div>
        </form>
      </Panel>
    </>
  );
}
