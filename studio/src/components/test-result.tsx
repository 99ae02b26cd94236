import type { ReactNode } from 'react';
import { Icon } from './icons.js';
import { RelativeTime } from './time.js';

/** The shape shared by connection tests, credential tests and integration verification. */
export interface ResultLike {
  ok: boolean;
  latencyMs: number | null;
  checkedAt?: string;
  details?: Record<string, unknown>;
  error: { code: string; message: string } | null;
}

/**
 * A test's outcome, impossible to misread: a green or red panel with a headline, the
 * error code and message, the latency and the details the tester reported.
 */
export function TestResultView({ result, title, onDismiss }: { result: ResultLike; title?: ReactNode; onDismiss?: () => void }) {
  const details = Object.entries(result.details ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== '');
  return (
    <div className={`result ${result.ok ? 'result-ok' : 'result-fail'}`} role="status" aria-live="polite" data-testid="test-result" data-ok={String(result.ok)}>
      <div className="result-icon" aria-hidden="true">
        <Icon name={result.ok ? 'check' : 'alert'} size={20} />
      </div>
      <div className="result-body">
        <strong className="result-title">{title ?? (result.ok ? 'Test passed' : 'Test failed')}</strong>
        {result.error ? (
          <p className="result-message">
            <code>{result.error.code}</code> {result.error.message}
          </p>
        ) : null}
        <p className="result-meta muted small">
          {result.latencyMs !== null ? `${Math.round(result.latencyMs)} ms` : null}
          {result.checkedAt ? (
            <>
              {' · checked '}
              <RelativeTime at={result.checkedAt} />
            </>
          ) : null}
        </p>
        {details.length > 0 ? (
          <dl className="result-details">
            {details.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd className="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
              </div>
            ))}
          </dl>
        ) : null}
      </div>
      {onDismiss ? (
        <button type="button" className="icon-btn" onClick={onDismiss} aria-label="Dismiss result">
          <Icon name="close" size={16} />
        </button>
      ) : null}
    </div>
  );
}
