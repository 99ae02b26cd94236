import { useState } from 'react';
import { isNotFound, messageOf } from '../api/problems.js';
import { useStudio } from '../api/studio-context.js';
import { useAction, useLoad } from '../api/use-load.js';
import { ToggleAndDelete } from '../components/record-actions.js';
import { EnabledBadge } from '../components/badge.js';
import { ConfirmDialog } from '../components/dialog.js';
import { CheckField } from '../components/field.js';
import { EmptyState, Loading, ProblemBanner } from '../components/feedback.js';
import { Icon } from '../components/icons.js';
import { PageHeader, Panel } from '../components/page-header.js';
import { type ResultLike, TestResultView } from '../components/test-result.js';
import { IntegrationForm } from '../forms/integration-form.js';
import { Link, pathOf, useRouter } from '../router.js';
import { ConnectLinkButton } from './connect-link.js';
import { ConnectionsTable } from './connections-table.js';

/** Verify performs a client-credentials grant with the integration's own client. */
const VERIFIABLE = new Set(['oauth2_client_credentials']);

/** One integration: its settings (the generated form) and its connections. */
export function IntegrationPage({ integrationKey }: { integrationKey: string }) {
  const { lk, can, notify } = useStudio();
  const { location, navigate } = useRouter();
  const tab = location.query.get('tab') === 'connections' ? 'connections' : 'settings';
  const integration = useLoad((c) => c.getIntegration({ key: integrationKey }), [integrationKey]);
  const provider = useLoad((c) => (integration.data ? c.getProvider({ provider: integration.data.provider }) : Promise.resolve(null)), [integration.data?.provider]);
  const [verifyResult, setVerifyResult] = useState<ResultLike | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [cascade, setCascade] = useState(false);
  const action = useAction();
  const manage = can('platform.integration.manage');
  const crumbs = [{ label: 'Integrations', to: '/integrations' }, { label: integrationKey }];

  if (integration.error && !integration.data) {
    return (
      <>
        <PageHeader title={integrationKey} crumbs={crumbs} />
        {isNotFound(integration.error) ? (
          <EmptyState title="Integration not found" action={<Link to="/integrations">Back to integrations</Link>}>
            It may have been deleted.
          </EmptyState>
        ) : (
          <ProblemBanner error={integration.error} />
        )}
      </>
    );
  }
  if (!integration.data) return <Loading />;
  const record = integration.data;

  const verify = async () => {
    setVerifyResult(null);
    const result = await action.run(() => lk.verifyIntegration({ key: record.key }));
    if (result) setVerifyResult(result);
  };
  const toggle = async () => {
    const saved = await action.run(() => lk.updateIntegration({ key: record.key, enabled: !record.enabled }, { ifMatch: record.version }));
    if (saved) {
      integration.setData(saved);
      notify(saved.enabled ? 'Integration enabled' : 'Integration disabled');
    }
  };
  const remove = async () => {
    const done = await action.run(() => lk.deleteIntegration({ key: record.key, cascade }));
    if (done) {
      notify(`Integration ${record.key} deleted${done.connectionsDeleted ? ` with ${done.connectionsDeleted} connections` : ''}`);
      navigate('/integrations');
    } else setConfirmDelete(false);
  };

  return (
    <>
      <PageHeader
        crumbs={crumbs}
        title={record.displayName}
        badges={<EnabledBadge enabled={record.enabled} />}
        subtitle={
          <>
            <code>{record.key}</code> · {provider.data?.displayName ?? record.provider} · <code>{record.authMethod}</code> · {record.scope}
          </>
        }
        actions={
          manage ? (
            <>
              {VERIFIABLE.has(record.authMethod) ? (
                <button type="button" className="btn btn-secondary" onClick={verify} disabled={action.busy}>
                  <Icon name="shield" size={16} />
                  Verify
                </button>
              ) : null}
              <ToggleAndDelete enabled={record.enabled} busy={action.busy} onToggle={toggle} onDelete={() => setConfirmDelete(true)} />
            </>
          ) : null
        }
      />
      {action.error && !confirmDelete ? <ProblemBanner error={action.error} onDismiss={() => action.setError(undefined)} onReload={integration.reload} /> : null}
      {verifyResult ? (
        <TestResultView
          result={verifyResult}
          title={verifyResult.ok ? 'The integration’s credentials authenticate' : 'Verification failed'}
          onDismiss={() => setVerifyResult(null)}
        />
      ) : null}
      <nav className="tabs" aria-label="Integration sections">
        <TabLink to={pathOf('integrations', record.key)} selected={tab === 'settings'}>
          Settings
        </TabLink>
        <TabLink to={`${pathOf('integrations', record.key)}?tab=connections`} selected={tab === 'connections'}>
          Connections
        </TabLink>
      </nav>
      {tab === 'settings' ? (
        <Panel>
          {provider.error ? <ProblemBanner error={provider.error} /> : null}
          {provider.data ? (
            <IntegrationForm key={record.version} provider={provider.data} existing={record} onSaved={integration.setData} onReload={integration.reload} readOnly={!manage} />
          ) : (
            <Loading />
          )}
        </Panel>
      ) : (
        <IntegrationConnections integrationKey={record.key} oauth={record.authMethod === 'oauth2'} />
      )}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${record.key}?`}
        confirmLabel="Delete integration"
        danger
        busy={action.busy}
        onConfirm={remove}
        onClose={() => {
          setConfirmDelete(false);
          action.setError(undefined);
        }}
      >
        <p>The integration and its encrypted secrets are erased. This cannot be undone.</p>
        <CheckField label="Also delete its connections" hint="Without this, deleting is refused while connections exist." checked={cascade} onChange={setCascade} />
        {action.error ? <p className="field-error">{messageOf(action.error)}</p> : null}
      </ConfirmDialog>
    </>
  );
}

function TabLink({ to, selected, children }: { to: string; selected: boolean; children: string }) {
  return (
    <Link to={to} aria-current={selected ? 'page' : undefined} className={`tab${selected ? ' tab-active' : ''}`}>
      {children}
    </Link>
  );
}

function IntegrationConnections({ integrationKey, oauth }: { integrationKey: string; oauth: boolean }) {
  const { can } = useStudio();
  const manage = can('platform.connection.manage');
  return (
    <Panel
      title="Connections"
      description="One authenticated link per end-user account."
      actions={
        manage ? (
          <>
            {oauth ? <ConnectLinkButton integrationKey={integrationKey} /> : null}
            <Link to={`${pathOf('integrations', integrationKey, 'connections', 'new')}`} className="btn btn-primary">
              <Icon name="plus" size={16} />
              Add connection
            </Link>
          </>
        ) : null
      }
    >
      <ConnectionsTable integrationKey={integrationKey} />
    </Panel>
  );
}
