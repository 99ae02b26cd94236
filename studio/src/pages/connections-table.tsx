import type { Connection } from '../api/types.js';
import { usePaged } from '../api/use-load.js';
import { LoadMore } from '../components/load-more.js';
import { StatusBadge } from '../components/badge.js';
import { EmptyState, Loading, ProblemBanner } from '../components/feedback.js';
import { ExpiryCountdown, RelativeTime } from '../components/time.js';
import { Link, pathOf } from '../router.js';

type Status = Connection['status'];

export interface ConnectionFilters {
  status?: string;
  provider?: string;
  enabled?: string;
}

/** Connections of one integration, or of the whole tenant, with status, expiry and health. */
export function ConnectionsTable({ integrationKey, filters = {} }: { integrationKey?: string; filters?: ConnectionFilters }) {
  const { status, provider, enabled } = filters;
  const list = usePaged(
    (lk, cursor) =>
      lk.listConnections({
        limit: 100,
        ...(integrationKey ? { key: integrationKey } : {}),
        ...(cursor ? { cursor } : {}),
        ...(status ? { status: status as Status } : {}),
        ...(provider ? { provider } : {}),
        ...(enabled ? { enabled: enabled === 'true' } : {}),
      }),
    [integrationKey, status, provider, enabled],
  );
  const filtered = Boolean(status || provider || enabled);
  if (list.error && list.items.length === 0) return <ProblemBanner error={list.error} />;
  if (list.loading && list.items.length === 0) return <Loading label="Loading connections…" />;
  if (list.items.length === 0) {
    return filtered ? (
      <EmptyState title="No connections match">Change or clear the filters.</EmptyState>
    ) : (
      <EmptyState title="No connections yet">
        {integrationKey ? 'Add one with its credentials, or send the end user a connect link.' : 'Connections appear here once an integration has any.'}
      </EmptyState>
    );
  }
  return (
    <>
      <ProblemBanner error={list.error} />
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Connection</th>
              {integrationKey ? null : <th scope="col">Integration</th>}
              <th scope="col">Status</th>
              <th scope="col" className="hide-sm">
                Expiry
              </th>
              <th scope="col" className="hide-sm">
                Health
              </th>
              <th scope="col" className="hide-sm">
                Updated
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((c) => (
              <tr key={`${c.integration}/${c.id}`} data-connection={c.id}>
                <td>
                  <Link to={pathOf('integrations', c.integration, 'connections', c.id)} className="row-title mono">
                    {c.id}
                  </Link>
                  <div className="muted small">{c.credentials.type}</div>
                </td>
                {integrationKey ? null : (
                  <td>
                    <Link to={pathOf('integrations', c.integration)}>{c.integration}</Link>
                    <div className="muted small">{c.provider}</div>
                  </td>
                )}
                <td>
                  <StatusBadge status={c.status} reason={c.statusReason} />
                </td>
                <td className="hide-sm">
                  <ExpiryCountdown expiresAt={c.credentials.expiresAt} />
                </td>
                <td className="hide-sm">
                  <HealthSummary health={c.health} />
                </td>
                <td className="hide-sm">
                  <RelativeTime at={c.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore list={list} />
    </>
  );
}

/** "ok · 42 ms · 5m ago", or the failing code, or "never tested". */
export function HealthSummary({ health }: { health: Connection['health'] }) {
  if (!health) return <span className="muted">never tested</span>;
  return (
    <span className={`health ${health.ok ? 'health-ok' : 'health-fail'}`}>
      <span className="health-dot" aria-hidden="true" />
      {health.ok ? 'ok' : (health.errorCode ?? 'failed')}
      {health.latencyMs !== null ? ` · ${Math.round(health.latencyMs)} ms` : ''}
      {' · '}
      <RelativeTime at={health.checkedAt} />
    </span>
  );
}
