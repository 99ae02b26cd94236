import { useMemo, useState } from 'react';
import { useLoad } from '../api/use-load.js';
import { Badge } from '../components/badge.js';
import { EmptyState, Loading, ProblemBanner } from '../components/feedback.js';
import { Icon } from '../components/icons.js';
import { PageHeader } from '../components/page-header.js';
import { Link, pathOf, useRouter } from '../router.js';
import { ProviderMark } from './new-integration.js';

/** The provider catalog: search by name, browse by category. */
export function ProvidersPage() {
  const { location, navigate } = useRouter();
  const category = location.query.get('category') ?? '';
  const [search, setSearch] = useState(location.query.get('q') ?? '');
  const all = useLoad((lk) => lk.listProviders({ limit: 200 }), []);
  const categories = useMemo(() => [...new Set((all.data?.data ?? []).flatMap((p) => p.categories))].sort(), [all.data]);
  const needle = search.trim().toLowerCase();
  const shown = (all.data?.data ?? []).filter(
    (p) => (!category || p.categories.includes(category)) && (!needle || `${p.key} ${p.displayName} ${p.description}`.toLowerCase().includes(needle)),
  );
  const pick = (value: string) => navigate(`/providers${value ? `?category=${encodeURIComponent(value)}` : ''}`, { replace: true });

  return (
    <>
      <PageHeader title="Providers" subtitle="The catalog of services Latchkey can connect to, with what each needs." />
      <div className="filters" role="search" aria-label="Filter providers">
        <label className="filter filter-grow">
          <span className="sr-only">Search providers</span>
          <Icon name="search" size={16} />
          <input className="input input-bare" type="search" placeholder="Search providers" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
      </div>
      <div className="chips" role="group" aria-label="Categories">
        <button type="button" className={`chip${category === '' ? ' chip-active' : ''}`} aria-pressed={category === ''} onClick={() => pick('')}>
          All
        </button>
        {categories.map((c) => (
          <button key={c} type="button" className={`chip${category === c ? ' chip-active' : ''}`} aria-pressed={category === c} onClick={() => pick(c)}>
            {c}
          </button>
        ))}
      </div>
      <ProblemBanner error={all.error} />
      {all.loading && !all.data ? <Loading label="Loading the catalog…" /> : null}
      {all.data && shown.length === 0 ? <EmptyState title="No provider matches">Try another search or category.</EmptyState> : null}
      <ul className="card-grid" aria-label="Providers">
        {shown.map((p) => (
          <li key={p.key}>
            <Link to={pathOf('providers', p.key)} className="card card-link" data-provider={p.key}>
              <span className="card-title">
                <ProviderMark name={p.displayName} />
                <span>
                  {p.displayName}
                  <span className="mono muted small card-key">{p.key}</span>
                </span>
              </span>
              <span className="muted small card-desc">{p.description}</span>
              <span className="tag-list">
                {p.categories.map((c) => (
                  <Badge key={c}>{c}</Badge>
                ))}
                {p.generic ? <Badge tone="warning">generic</Badge> : null}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}
