import { useMemo, useState } from 'react';
import { useStudio } from '../api/studio-context.js';
import type { Provider } from '../api/types.js';
import { useLoad } from '../api/use-load.js';
import { Badge } from '../components/badge.js';
import { EmptyState, Loading, Notice, ProblemBanner } from '../components/feedback.js';
import { Icon } from '../components/icons.js';
import { PageHeader, Panel } from '../components/page-header.js';
import { IntegrationForm } from '../forms/integration-form.js';
import { Link, pathOf, useRouter } from '../router.js';

/** Step 1: pick a provider (or arrive with `?provider=`); step 2: the generated form. */
export function NewIntegrationPage() {
  const { can } = useStudio();
  const { location, navigate } = useRouter();
  const chosen = location.query.get('provider');
  const provider = useLoad((lk) => (chosen ? lk.getProvider({ provider: chosen }) : Promise.resolve(null)), [chosen]);
  const crumbs = [{ label: 'Integrations', to: '/integrations' }, { label: 'New' }];

  if (!can('platform.integration.manage')) {
    return (
      <>
        <PageHeader title="New integration" crumbs={crumbs} />
        <Notice tone="warning">Your API key’s role cannot create integrations.</Notice>
      </>
    );
  }
  if (!chosen) {
    return (
      <>
        <PageHeader title="New integration" subtitle="Choose the provider to connect to." crumbs={crumbs} />
        <ProviderPicker onPick={(key) => navigate(`/integrations/new?provider=${encodeURIComponent(key)}`)} />
      </>
    );
  }
  return (
    <>
      <PageHeader
        title={provider.data ? `New ${provider.data.displayName} integration` : 'New integration'}
        subtitle={provider.data?.description}
        crumbs={crumbs}
        actions={
          <Link to="/integrations/new" className="btn btn-secondary">
            Change provider
          </Link>
        }
      />
      <ProblemBanner error={provider.error} />
      {provider.loading ? <Loading /> : null}
      {provider.data ? (
        <Panel>
          <IntegrationForm provider={provider.data} onSaved={(record) => navigate(pathOf('integrations', record.key))} onCancel={() => navigate('/integrations')} />
        </Panel>
      ) : null}
    </>
  );
}

function ProviderPicker({ onPick }: { onPick: (key: string) => void }) {
  const providers = useLoad((lk) => lk.listProviders({ limit: 200 }), []);
  const [search, setSearch] = useState('');
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const all = providers.data?.data ?? [];
    return needle ? all.filter((p) => `${p.key} ${p.displayName} ${p.categories.join(' ')}`.toLowerCase().includes(needle)) : all;
  }, [providers.data, search]);
  return (
    <>
      <div className="filters" role="search">
        <label className="filter filter-grow">
          <span className="sr-only">Search providers</span>
          <Icon name="search" size={16} />
          <input className="input input-bare" type="search" placeholder="Search providers" value={search} onChange={(e) => setSearch(e.target.value)} autoFocus />
        </label>
      </div>
      <ProblemBanner error={providers.error} />
      {providers.loading ? <Loading /> : null}
      {!providers.loading && shown.length === 0 ? <EmptyState title="No provider matches">Try another name.</EmptyState> : null}
      <ul className="card-grid" aria-label="Providers">
        {shown.map((p) => (
          <li key={p.key}>
            <ProviderChoice provider={p} onPick={onPick} />
          </li>
        ))}
      </ul>
    </>
  );
}

function ProviderChoice({ provider, onPick }: { provider: Provider; onPick: (key: string) => void }) {
  return (
    <button type="button" className="card card-button" onClick={() => onPick(provider.key)} data-provider={provider.key}>
      <span className="card-title">
        <ProviderMark name={provider.displayName} />
        {provider.displayName}
      </span>
      <span className="muted small card-desc">{provider.description}</span>
      <span className="tag-list">
        {provider.authMethods.map((m) => (
          <Badge key={m} tone="info">
            {m}
          </Badge>
        ))}
      </span>
    </button>
  );
}

/** Initials in a coloured square: recognisable without loading any logo from elsewhere. */
export function ProviderMark({ name }: { name: string }) {
  const hue = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
  const letters = name
    .split(/[\s-]+/)
    .map((w) => w[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();
  return (
    <span className="provider-mark" aria-hidden="true" data-hue={hue} style={{ backgroundColor: `hsl(${hue} 45% 42%)` }}>
      {letters}
    </span>
  );
}
