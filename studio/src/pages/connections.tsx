import { useLoad } from '../api/use-load.js';
import { FilterSelect } from '../components/filter-select.js';
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
        <FilterSelect label="Status" value={status} onChange={(v) => setFilter('status', v)} options={[['active', 'Active'], ['expired', 'Expired'], ['error', 'Error'], ['disabled', 'Disabled']]} />
        <FilterSelect label="Provider" value={provider} onChange={(v) => setFilter('provider', v)} options={(providers.data?.data ?? []).map((p) => [p.key, p.displayName] as const)} />
        <FilterSelect label="State" value={enabled} onChange={(v) => setFilter('enabled', v)} options={[['true', 'Enabled'], ['false', 'Disabled']]} />
      </div>
      <ConnectionsTable filters={{ status, provider, enabled }} />
    </>
  );
}
