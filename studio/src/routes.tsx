import { useEffect } from 'react';
import { useStudio } from './api/studio-context.js';
import { EmptyState } from './components/feedback.js';
import { ApiKeysPage } from './pages/api-keys.js';
import { AuditPage } from './pages/audit.js';
import { ConnectionPage } from './pages/connection.js';
import { ConnectionsPage } from './pages/connections.js';
import { IntegrationPage } from './pages/integration.js';
import { IntegrationsPage } from './pages/integrations.js';
import { NewConnectionPage } from './pages/new-connection.js';
import { NewIntegrationPage } from './pages/new-integration.js';
import { ProviderPage } from './pages/provider.js';
import { ProvidersPage } from './pages/providers.js';
import { WebhooksPage } from './pages/webhooks.js';
import { Link, match, useRouter } from './router.js';
import { visibleNav } from './shell.js';

/** Path → page. Order matters where patterns overlap (`new` before `:key`). */
export function Routes() {
  const { location, navigate } = useRouter();
  const studio = useStudio();
  const path = location.path;
  const home = visibleNav(studio.can)[0]?.to ?? '/connections';

  useEffect(() => {
    if (path === '/' || path === '') navigate(home, { replace: true });
  }, [path, home, navigate]);

  // After navigation, screen readers start at the new page, unless the page focused a
  // field of its own (autoFocus runs before this effect).
  useEffect(() => {
    const main = document.getElementById('main');
    if (main && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }, [path]);

  let p: Record<string, string> | null;
  if (path === '/integrations') return <IntegrationsPage />;
  if (path === '/integrations/new') return <NewIntegrationPage />;
  if ((p = match('/integrations/:key/connections/new', path))) return <NewConnectionPage integrationKey={p.key!} />;
  if ((p = match('/integrations/:key/connections/:id', path))) return <ConnectionPage key={`${p.key}/${p.id}`} integrationKey={p.key!} connectionId={p.id!} />;
  if ((p = match('/integrations/:key', path))) return <IntegrationPage key={p.key} integrationKey={p.key!} />;
  if (path === '/connections') return <ConnectionsPage />;
  if (path === '/providers') return <ProvidersPage />;
  if ((p = match('/providers/:key', path))) return <ProviderPage key={p.key} providerKey={p.key!} />;
  if (path === '/api-keys') return <ApiKeysPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  if (path === '/' || path === '') return null;
  return (
    <EmptyState title="Page not found" action={<Link to={home}>Go to the start page</Link>}>
      There is no Studio page at this address.
    </EmptyState>
  );
}
