import type { ReactNode } from 'react';
import { LatchkeyProblem } from '../../../src/surfaces/client/index.js';
import { messageOf, requestIdOf, titleOf } from '../api/problems.js';
import { Icon } from './icons.js';

/** True when a form shows this error path next to a field (`tags` claims `tags.2`). */
export function isShown(path: string, shownPaths: ReadonlySet<string> | undefined): boolean {
  if (!shownPaths) return false;
  for (const root of shownPaths) if (path === root || path.startsWith(`${root}.`)) return true;
  return false;
}

export function Spinner({ label }: { label?: string }) {
  return (
    <span className="spinner-wrap" role="status">
      <span className="spinner" aria-hidden="true" />
      {label ? <span>{label}</span> : <span className="sr-only">Loading</span>}
    </span>
  );
}

/** A block shown while a page's first data loads. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading-block" aria-busy="true">
      <Spinner label={label} />
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-mark" aria-hidden="true">
        <Icon name="grid" size={26} />
      </div>
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action ? <div className="empty-action">{action}</div> : null}
    </div>
  );
}

/**
 * A problem from the API (or the network) in words. Field errors whose path a form shows
 * next to the field are left out here (`shownPaths`); the rest are listed so nothing is lost.
 */
export function ProblemBanner({
  error,
  shownPaths,
  onDismiss,
  onReload,
}: {
  error: unknown;
  shownPaths?: ReadonlySet<string>;
  onDismiss?: () => void;
  /** Offered on 412: load the record as it is now (edits in progress are dropped). */
  onReload?: () => void;
}) {
  if (error === undefined || error === null) return null;
  const rest = error instanceof LatchkeyProblem ? error.errors.filter((e) => !isShown(e.path, shownPaths)) : [];
  const requestId = requestIdOf(error);
  return (
    <div className="alert alert-danger" role="alert">
      <Icon name="alert" />
      <div className="alert-body">
        <strong>{titleOf(error)}</strong>
        <p>{error instanceof LatchkeyProblem && error.errors.length > 0 && rest.length === 0 ? 'Check the highlighted fields.' : messageOf(error)}</p>
        {rest.length > 0 ? (
          <ul>
            {rest.map((e) => (
              <li key={e.path}>
                <code>{e.path}</code> {e.message}
              </li>
            ))}
          </ul>
        ) : null}
        {onReload && error instanceof LatchkeyProblem && error.status === 412 ? (
          <p>
            <button type="button" className="btn btn-small btn-secondary" onClick={onReload}>
              Reload the latest version
            </button>
          </p>
        ) : null}
        {requestId ? <p className="muted small">Request id {requestId}</p> : null}
      </div>
      {onDismiss ? (
        <button type="button" className="icon-btn" onClick={onDismiss} aria-label="Dismiss">
          <Icon name="close" size={16} />
        </button>
      ) : null}
    </div>
  );
}

export function Notice({ tone = 'info', children }: { tone?: 'info' | 'warning' | 'success'; children: ReactNode }) {
  return (
    <div className={`alert alert-${tone}`} role="note">
      <div className="alert-body">{children}</div>
    </div>
  );
}
