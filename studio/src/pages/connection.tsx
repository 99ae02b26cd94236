import { useState } from 'react';
import { isNotFound, messageOf } from '../api/problems.js';
import { useStudio } from '../api/studio-context.js';
import { useAction, useLoad } from '../api/use-load.js';
import { ToggleAndDelete } from '../components/record-actions.js';
import { Badge, EnabledBadge, StatusBadge } from '../components/badge.js';
import { ConfirmDialog } from '../components/dialog.js';
import { EmptyState, Loading, ProblemBanner } from '../components/feedback.js';
import { Icon } from '../components/icons.js';
import { PageHeader, Panel } from '../components/page-header.js';
import { type ResultLike, TestResultView } from '../components/test-result.js';
import { ExpiryCountdown, RelativeTime, formatDateTime } from '../components/time.js';
import { Link, pathOf, useRouter } from '../router.js';
import { ConnectLinkButton } from './connect-link.js';
import { CredentialsPanel, MetadataPanel, SettingsPanel } from './connection-panels.js';
import { HealthSummary } from './connections-table.js';

const OAUTH_TYPES = new Set(['oauth2', 'oauth2_client_credentials', 'oauth2_password']);

/**
 * One connection: status, health and expiry at a glance; Test, Refresh, Enable/Disable and
 * Delete; and separate small forms for credentials (write-only, carry-forward), settings,
 * metadata and labels, each saved with If-Match on the version it was read at.
 */
export function ConnectionPage({ integrationKey, connectionId }: { integrationKey: string; connectionId: string }) {
  const { lk, can, notify } = useStudio();
  const { navigate } = useRouter();
  const connection = useLoad((c) => c.getConnection({ key: integrationKey, id: connectionId }), [integrationKey, connectionId]);
  const context = useLoad(async (c) => {
    const integration = await c.getIntegration({ key: integrationKey }).catch(() => null);
    const provider = integration ? await c.getProvider({ provider: integration.provider }).catch(() => null) : null;
    return { integration, provider };
  }, [integrationKey]);
  const [result, setResult] = useState<{ result: ResultLike; title: string } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const action = useAction();
  const manage = can('platform.connection.manage');
  const crumbs = [
    { label: 'Integrations', to: '/integrations' },
    { label: integrationKey, to: `${pathOf('integrations', integrationKey)}?tab=connections` },
    { label: connectionId },
  ];

  if (connection.error && !connection.data) {
    return (
      <>
        <PageHeader title={connectionId} crumbs={crumbs} />
        {isNotFound(connection.error) ? (
          <EmptyState title="Connection not found" action={<Link to="/connections">All connections</Link>}>
            It may have been deleted.
          </EmptyState>
        ) : (
          <ProblemBanner error={connection.error} />
        )}
      </>
    );
  }
  if (!connection.data) return <Loading />;
  const record = connection.data;
  const provider = context.data?.provider ?? null;
  const integration = context.data?.integration ?? null;

  const test = async () => {
    setResult(null);
    const outcome = await action.run(() => lk.testConnection({ key: record.integration, id: record.id }));
    if (outcome) {
      setResult({ result: outcome, title: outcome.ok ? 'Connection works' : 'Connection test failed' });
      connection.reload(); // health and status changed
    }
  };
  const refresh = async () => {
    setResult(null);
    const outcome = await action.run(() => lk.refreshConnection({ key: record.integration, id: record.id }));
    if (outcome) {
      notify('Token refreshed');
      connection.reload();
    }
  };
  const toggle = async () => {
    const saved = await action.run(() => lk.updateConnection({ key: record.integration, id: record.id, enabled: !record.enabled }, { ifMatch: record.version }));
    if (saved) {
      connection.setData(saved);
      notify(saved.enabled ? 'Connection enabled' : 'Connection disabled');
    }
  };
  const remove = async () => {
    const done = await action.run(() => lk.deleteConnection({ key: record.integration, id: record.id }, { ifMatch: record.version }));
    if (done) {
      notify(`Connection ${record.id} deleted`);
      navigate(`${pathOf('integrations', record.integration)}?tab=connections`);
    } else setConfirmDelete(false);
  };

  return (
    <>
      <PageHeader
        crumbs={crumbs}
        title={<span className="mono">{record.id}</span>}
        badges={<StatusBadge status={record.status} reason={record.statusReason} />}
        subtitle={
          <>
            <Link to={pathOf('integrations', record.integration)}>{integration?.displayName ?? record.integration}</Link> · {provider?.displayName ?? record.provider} · <code>{record.credentials.type}</code>
          </>
        }
        actions={
          manage ? (
            <>
              <button type="button" className="btn btn-primary" onClick={test} disabled={action.busy} data-action="test">
                <Icon name="play" size={16} />
                {action.busy ? 'Working…' : 'Test'}
              </button>
              {OAUTH_TYPES.has(record.credentials.type) ? (
                <button type="button" className="btn btn-secondary" onClick={refresh} disabled={action.busy}>
                  <Icon name="refresh" size={16} />
                  Refresh token
                </button>
              ) : null}
              {integration?.authMethod === 'oauth2' ? <ConnectLinkButton integrationKey={record.integration} connectionId={record.id} /> : null}
              <ToggleAndDelete enabled={record.enabled} busy={action.busy} onToggle={toggle} onDelete={() => setConfirmDelete(true)} />
            </>
          ) : null
        }
      />
      {action.error && !confirmDelete ? <ProblemBanner error={action.error} onDismiss={() => action.setError(undefined)} onReload={connection.reload} /> : null}
      {result ? <TestResultView result={result.result} title={result.title} onDismiss={() => setResult(null)} /> : null}

      <div className="columns">
        <div className="column-main">
          {provider ? (
            <CredentialsPanel key={`cred-${record.version}`} record={record} provider={provider} onSaved={connection.setData} onReload={connection.reload} readOnly={!manage} onTestResult={(r) => setResult({ result: r, title: 'Not saved: the new credentials failed the test' })} />
          ) : context.loading ? (
            <Loading />
          ) : null}
          {provider ? <SettingsPanel key={`cfg-${record.version}`} record={record} provider={provider} authMethod={integration?.authMethod} onSaved={connection.setData} onReload={connection.reload} readOnly={!manage} /> : null}
          <MetadataPanel key={`md-${record.version}`} record={record} onSaved={connection.setData} onReload={connection.reload} readOnly={!manage} />
        </div>
        <aside className="column-side">
          <Panel title="Status">
            <dl className="facts">
              <div>
                <dt>Status</dt>
                <dd>
                  <StatusBadge status={record.status} />
                  {record.statusReason ? <div className="muted small">{record.statusReason}</div> : null}
                </dd>
              </div>
              <div>
                <dt>State</dt>
                <dd>
                  <EnabledBadge enabled={record.enabled} />
                </dd>
              </div>
              <div>
                <dt>Health</dt>
                <dd>
                  <HealthSummary health={record.health} />
                </dd>
              </div>
              <div>
                <dt>Expiry</dt>
                <dd>
                  <ExpiryCountdown expiresAt={record.credentials.expiresAt} />
                </dd>
              </div>
              {record.credentials.lastRefreshedAt ? (
                <div>
                  <dt>Last refreshed</dt>
                  <dd>
                    <RelativeTime at={record.credentials.lastRefreshedAt} />
                  </dd>
                </div>
              ) : null}
              {record.credentials.scopes?.length ? (
                <div>
                  <dt>Scopes</dt>
                  <dd className="tag-list">
                    {record.credentials.scopes.map((s) => (
                      <Badge key={s}>{s}</Badge>
                    ))}
                  </dd>
                </div>
              ) : null}
              <div>
                <dt>Created</dt>
                <dd title={formatDateTime(record.createdAt)}>
                  <RelativeTime at={record.createdAt} /> {record.createdBy ? <span className="muted small">by {record.createdBy}</span> : null}
                </dd>
              </div>
              <div>
                <dt>Updated</dt>
                <dd>
                  <RelativeTime at={record.updatedAt} /> <span className="muted small">version {record.version}</span>
                </dd>
              </div>
              <div>
                <dt>UID</dt>
                <dd className="mono small">{record.uid}</dd>
              </div>
            </dl>
          </Panel>
        </aside>
      </div>
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete connection ${record.id}?`}
        confirmLabel="Delete connection"
        danger
        busy={action.busy}
        onConfirm={remove}
        onClose={() => {
          setConfirmDelete(false);
          action.setError(undefined);
        }}
      >
        <p>The connection and its encrypted credentials are erased. Workloads using it stop working. This cannot be undone.</p>
        {action.error ? <p className="field-error">{messageOf(action.error)}</p> : null}
      </ConfirmDialog>
    </>
  );
}
