import { useMemo, useState } from 'react';
import { useStudio } from '../api/studio-context.js';
import { useLoad, usePaged } from '../api/use-load.js';
import { LoadMore } from '../components/load-more.js';
import { Badge, EnabledBadge } from '../components/badge.js';
import { EmptyState, Loading, ProblemBanner } from '../components/feedback.js';
import { Icon } from '../components/icons.js';
import { FilterSelect } from '../components/filter-select.js';
import { PageHeader } from '../components/page-header.js';
import { RelativeTime } from '../components/time.js';
import { Link, pathOf, useRouter } from '../router.js';

const TAG = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Every integration of the tenant, filtered on the server by provider, scope, state and
 * tag, and searched here by key or name (the API has no free-text search for these).
 */
export function IntegrationsPage() {
  const { can } = useStudio();
  const { location, navigate } = useRouter();
  const q = location.query;
  const [search, setSearch] = useState(q.get('q') ?? '');
  const provider = q.get('provider') ?? '';
  const scope = q.get('scope') ?? '';
  const enabled = q.get('enabled') ?? '';
  const [tag, setTag] = useState(q.get('tag') ?? '');
  const tagFilter = TAG.test(tag) ? tag : '';

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(q);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(`/integrations${next.size ? `?${next}` : ''}`, { replace: true });
  };

  const providers = useLoad((lk) => lk.listProviders({ limit: 200 }), []);
  const list = usePaged(
    (lk, cursor) =>
      lk.listIntegrations({
        limit: 100,
        ...(cursor ? { cursor } : {}),
        ...(provider ? { provider } : {}),
        ...(scope ? { scope: scope as 'global' } : {}),
        ...(enabled ? { enabled: enabled === 'true' } : {}),
        ...(tagFilter ? { tag: tagFilter } : {}),
      }),
    [provider, scope, enabled, tagFilter],
  );
  const providerName = useMemo(() => new Map((providers.data?.data ?? []).map((p) => [p.key, p.displayName])), [providers.data]);
  const needle = search.trim().toLowerCase();
  const shown = needle ? list.items.filter((i) => i.key.toLowerCase().includes(needle) || i.displayName.toLowerCase().includes(needle)) : list.items;
  const filtered = Boolean(needle || provider || scope || enabled || tagFilter);

  return (
    <>
      <PageHeader
        title="Integrations"
        subtitle="How your tenant connects to each provider: settings, OAuth clients and write-only secrets."
        actions={
          can('platform.integration.manage') ? (
            <Link to="/integrations/new" className="btn btn-primary">
              <Icon name="plus" size={16} />
              New integration
            </Link>
          ) : null
        }
      />
      <div className="filters" role="search" aria-label="Filter integrations">
        <label className="filter filter-grow">
          <span className="sr-only">Search integrations</span>
          <Icon name="search" size={16} />
          <input className="input input-bare" type="search" placeholder="Search by key or name" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <FilterSelect label="Provider" value={provider} onChange={(v) => setFilter('provider', v)} options={(providers.data?.data ?? []).map((p) => [p.key, p.displayName] as const)} />
        <FilterSelect label="Scope" value={scope} onChange={(v) => setFilter('scope', v)} options={[['global', 'Global'], ['workspace', 'Workspace'], ['user', 'User']]} />
        <FilterSelect label="State" value={enabled} onChange={(v) => setFilter('enabled', v)} options={[['true', 'Enabled'], ['false', 'Disabled']]} />
        <label className="filter">
          <span className="filter-label">Tag</span>
          <input
            className="input"
            value={tag}
            placeholder="any"
            onChange={(e) => setTag(e.target.value)}
            onBlur={() => setFilter('tag', tagFilter)}
            onKeyDown={(e) => e.key === 'Enter' && setFilter('tag', tagFilter)}
            aria-invalid={tag !== '' && !tagFilter ? true : undefined}
          />
        </label>
      </div>
      <ProblemBanner error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading label="Loading integrations…" />
      ) : shown.length === 0 && !list.error ? (
        filtered ? (
          <EmptyState title="No integrations match">Change or clear the filters.</EmptyState>
        ) : (
          <EmptyState
            title="No integrations yet"
            action={
              can('platform.integration.manage') ? (
                <Link to="/integrations/new" className="btn btn-primary">
                  Create the first integration
                </Link>
              ) : null
            }
          >
            An integration holds how your tenant connects to one provider, such as GitHub or a PostgreSQL database.
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Integration</th>
                <th scope="col">Provider</th>
                <th scope="col" className="hide-sm">
                  Auth
                </th>
                <th scope="col" className="hide-sm">
                  Scope
                </th>
                <th scope="col" className="hide-sm">
                  Tags
                </th>
                <th scope="col">State</th>
                <th scope="col" className="hide-sm">
                  Updated
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((i) => (
                <tr key={i.key} data-integration={i.key}>
                  <td>
                    <Link to={pathOf('integrations', i.key)} className="row-title">
                      {i.displayName}
                    </Link>
                    <div className="mono muted small">{i.key}</div>
                  </td>
                  <td>{providerName.get(i.provider) ?? i.provider}</td>
                  <td className="hide-sm">
                    <code>{i.authMethod}</code>
                  </td>
                  <td className="hide-sm">{i.scope}</td>
                  <td className="hide-sm">
                    <span className="tag-list">
                      {i.tags.map((t) => (
                        <Badge key={t}>{t}</Badge>
                      ))}
                    </span>
                  </td>
                  <td>
                    <EnabledBadge enabled={i.enabled} />
                  </td>
                  <td className="hide-sm">
                    <RelativeTime at={i.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} />
    </>
  );
}
