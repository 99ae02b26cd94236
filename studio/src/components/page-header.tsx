import type { ReactNode } from 'react';
import { Link } from '../router.js';

export interface Crumb {
  label: string;
  to?: string;
}

export function PageHeader({ title, subtitle, actions, crumbs, badges }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; crumbs?: Crumb[]; badges?: ReactNode }) {
  return (
    <header className="page-header">
      {crumbs && crumbs.length > 0 ? (
        <nav aria-label="Breadcrumb" className="crumbs">
          <ol>
            {crumbs.map((c, i) => (
              <li key={i}>{c.to ? <Link to={c.to}>{c.label}</Link> : <span aria-current="page">{c.label}</span>}</li>
            ))}
          </ol>
        </nav>
      ) : null}
      <div className="page-header-row">
        <div className="page-title">
          <h1>
            {title}
            {badges ? <span className="title-badges">{badges}</span> : null}
          </h1>
          {subtitle ? <p className="page-subtitle">{subtitle}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
    </header>
  );
}

/** A titled white card that groups one part of a page. */
export function Panel({ title, actions, children, description, id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; description?: ReactNode; id?: string }) {
  return (
    <section className="panel" aria-labelledby={id && title ? `${id}-title` : undefined}>
      {title || actions ? (
        <div className="panel-head">
          <div>
            {title ? <h2 id={id ? `${id}-title` : undefined}>{title}</h2> : null}
            {description ? <p className="panel-desc">{description}</p> : null}
          </div>
          {actions ? <div className="panel-actions">{actions}</div> : null}
        </div>
      ) : null}
      <div className="panel-body">{children}</div>
    </section>
  );
}
