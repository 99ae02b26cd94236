import { type ReactNode, useEffect, useState } from 'react';
import type { PolicyKey } from '../../src/contracts/policies.js';
import { useStudio } from './api/studio-context.js';
import { Icon, type IconName } from './components/icons.js';
import { Link, useRouter } from './router.js';

interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  policy: PolicyKey;
}

const NAV: NavItem[] = [
  { to: '/integrations', label: 'Integrations', icon: 'plug', policy: 'platform.integration.read' },
  { to: '/connections', label: 'Connections', icon: 'link', policy: 'platform.connection.read' },
  { to: '/providers', label: 'Providers', icon: 'grid', policy: 'platform.integration.read' },
  { to: '/api-keys', label: 'API keys', icon: 'key', policy: 'platform.access.manage' },
  { to: '/audit', label: 'Audit log', icon: 'list', policy: 'platform.audit.read' },
  { to: '/webhooks', label: 'Webhooks', icon: 'bell', policy: 'platform.webhook.manage' },
];

/** The pages this key may open, in menu order (the first is the landing page). */
export function visibleNav(can: (p: PolicyKey) => boolean): NavItem[] {
  return NAV.filter((item) => can(item.policy));
}

/** Sidebar navigation (a drawer behind a menu button on narrow screens) around the page. */
export function Shell({ children }: { children: ReactNode }) {
  const studio = useStudio();
  const { location } = useRouter();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location.path]);
  const items = visibleNav(studio.can);
  return (
    <div className={`shell${menuOpen ? ' menu-open' : ''}`}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="icon-btn menu-btn" aria-expanded={menuOpen} aria-controls="sidebar" onClick={() => setMenuOpen((o) => !o)} aria-label="Menu">
          <Icon name={menuOpen ? 'close' : 'menu'} />
        </button>
        <Brand />
      </header>
      <aside id="sidebar" className="sidebar">
        <Brand />
        <nav aria-label="Main">
          <ul className="nav">
            {items.map((item) => {
              const active = location.path === item.to || location.path.startsWith(`${item.to}/`);
              return (
                <li key={item.to}>
                  <Link to={item.to} className={`nav-link${active ? ' active' : ''}`} aria-current={active ? 'page' : undefined}>
                    <Icon name={item.icon} />
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <div className="whoami">
            <Icon name="shield" size={16} />
            <div>
              <div className="whoami-role" data-testid="role">
                {studio.access.role}
              </div>
              {studio.access.keyName ? <div className="muted small">{studio.access.keyName}</div> : null}
            </div>
          </div>
          <button type="button" className="btn btn-secondary btn-block" onClick={studio.signOut}>
            <Icon name="out" size={16} />
            Sign out
          </button>
        </div>
      </aside>
      <div className="scrim" onClick={() => setMenuOpen(false)} aria-hidden="true" />
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function Brand() {
  return (
    <Link to="/" className="brand">
      <span className="brand-mark" aria-hidden="true">
        <Icon name="key" size={18} />
      </span>
      <span>
        Latchkey <span className="brand-sub">Studio</span>
      </span>
    </Link>
  );
}
