import { useLoad } from '../api/use-load.js';
import { PageHeader } from '../components/page-header.js';
import { useRouter } from '../router.js';
import { ConnectionsTable } from './connections-table.js';

/** Every connection of the tenant, filtered by status, provider and state. */
export function ConnectionsPage() {
  const { location, navigate } = useRouter();
  const q = location.query;
  const status = q.get('status') ?? '';
  const provider = q.get('provider') ?? '';
  const enabled = q.get('enabled') ?? '';
  const providers = useLoad((lk) => lk.listProviders({ limit: 200 }).catch(() => ({ data: [], nextCursor: null })), []);
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(q);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(`/connections${next.size ? `?${next}` : ''}`, { replace: true });
  };
  return (
    <>
      <PageHeader title="Connections" subtitle="Every authenticated link to an end user’s account, across all integrations." />
      <div className="filters" role="search" aria-label="Filter connections">
        <label className="filter">
          <span className="filter-label">Status</span>
          <select className="input" value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="expired">Expired</option>
            <option value="error">Error</option>
            <option value="disabled">Disabled</option>
          </select>
        </label>
        <label className="filter">
          <span className="filter-label">Provider</span>
          <select className="input" value={provider} onChange={(e) => setFilter('provider', e.target.value)}>
            <option value="">All</option>
            {(providers.data?.data ?? []).map((p) => (
              <option key={p.key} value={p.key}>
                {p.displayName}
              </option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span className="filter-label">State</span>
          <select className="input" value={enabled} onChange={(e) => setFilter('enabled', e.target.value)}>
            <option value="">All</option>
            <option value="true">Enabled</option>
            <option value="false">Disabled</option>
          </select>
        </label>
      </div>
      <ConnectionsTable filters={{ status, provider, enabled }} />
    </>
  );
}
