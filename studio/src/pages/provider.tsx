import { isNotFound } from '../api/problems.js';
import { useStudio } from '../api/studio-context.js';
import { useLoad } from '../api/use-load.js';
import { Badge } from '../components/badge.js';
import { EmptyState, Loading, ProblemBanner } from '../components/feedback.js';
import { Icon } from '../components/icons.js';
import { PageHeader, Panel } from '../components/page-header.js';
import { Link } from '../router.js';

/** One provider: auth methods, OAuth endpoints, how connections are tested, and every parameter. */
export function ProviderPage({ providerKey }: { providerKey: string }) {
  const { can } = useStudio();
  const provider = useLoad((lk) => lk.getProvider({ provider: providerKey }), [providerKey]);
  const crumbs = [{ label: 'Providers', to: '/providers' }, { label: providerKey }];
  if (provider.error) {
    return (
      <>
        <PageHeader title={providerKey} crumbs={crumbs} />
        {isNotFound(provider.error) ? <EmptyState title="Provider not found" action={<Link to="/providers">Back to the catalog</Link>} /> : <ProblemBanner error={provider.error} />}
      </>
    );
  }
  if (!provider.data) return <Loading />;
  const p = provider.data;
  const test = p.test.kind === 'http' ? `${p.test.method} ${p.test.path} → ${p.test.expectStatus}` : p.test.kind === 'none' ? `none (${p.test.reason})` : p.test.kind;
  return (
    <>
      <PageHeader
        crumbs={crumbs}
        title={p.displayName}
        subtitle={p.description}
        badges={p.generic ? <Badge tone="warning">generic</Badge> : null}
        actions={
          can('platform.integration.manage') ? (
            <Link to={`/integrations/new?provider=${encodeURIComponent(p.key)}`} className="btn btn-primary">
              <Icon name="plus" size={16} />
              Create integration
            </Link>
          ) : null
        }
      />
      <div className="columns">
        <div className="column-main">
          <Panel title="Parameters" description="What an integration and its connections are configured with. Secret ones are write-only.">
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Parameter</th>
                    <th scope="col">Type</th>
                    <th scope="col">Level</th>
                    <th scope="col" className="hide-sm">
                      Details
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.parameters.map((param) => (
                    <tr key={`${param.level}:${param.name}`}>
                      <td>
                        <strong>{param.displayName}</strong>
                        <div className="mono muted small">{param.name}</div>
                      </td>
                      <td>
                        <code>{param.type}</code>
                        <div className="tag-list">
                          {param.required ? <Badge tone="info">required</Badge> : null}
                          {param.secret ? <Badge tone="warning">secret</Badge> : null}
                        </div>
                      </td>
                      <td>{param.level}</td>
                      <td className="hide-sm small">
                        {param.description}
                        {param.defaultValue !== undefined ? <div className="muted">Default {JSON.stringify(param.defaultValue)}</div> : null}
                        {param.authMethods ? <div className="muted">Only for {param.authMethods.join(', ')}</div> : null}
                        {param.options ? <div className="muted">One of {param.options.map((o) => o.value).join(', ')}</div> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {p.parameters.length === 0 ? <p className="muted">No parameters.</p> : null}
          </Panel>
        </div>
        <aside className="column-side">
          <Panel title="Overview">
            <dl className="facts">
              <div>
                <dt>Key</dt>
                <dd className="mono">{p.key}</dd>
              </div>
              <div>
                <dt>Categories</dt>
                <dd className="tag-list">
                  {p.categories.map((c) => (
                    <Badge key={c}>{c}</Badge>
                  ))}
                </dd>
              </div>
              <div>
                <dt>Auth methods</dt>
                <dd className="tag-list">
                  {p.authMethods.map((m) => (
                    <Badge key={m} tone="info">
                      {m}
                    </Badge>
                  ))}
                </dd>
              </div>
              {p.baseUrl ? (
                <div>
                  <dt>API base URL</dt>
                  <dd className="mono small break">{p.baseUrl}</dd>
                </div>
              ) : null}
              <div>
                <dt>Connection test</dt>
                <dd className="mono small">{test}</dd>
              </div>
              {p.oauth ? (
                <>
                  <div>
                    <dt>Authorization URL</dt>
                    <dd className="mono small break">{p.oauth.authorizationUrl}</dd>
                  </div>
                  <div>
                    <dt>Token URL</dt>
                    <dd className="mono small break">{p.oauth.tokenUrl}</dd>
                  </div>
                  <div>
                    <dt>Default scopes</dt>
                    <dd className="mono small">{p.oauth.defaultScopes.join(p.oauth.scopeSeparator) || '—'}</dd>
                  </div>
                  <div>
                    <dt>PKCE</dt>
                    <dd>{p.oauth.pkce ? 'yes (S256)' : 'no'}</dd>
                  </div>
                </>
              ) : null}
              {p.docsUrl ? (
                <div>
                  <dt>Documentation</dt>
                  <dd className="small break">
                    <a href={p.docsUrl} target="_blank" rel="noreferrer noopener">
                      {p.docsUrl}
                    </a>
                  </dd>
                </div>
              ) : null}
            </dl>
          </Panel>
        </aside>
      </div>
    </>
  );
}
