import { type FormEvent, useId, useRef, useState } from 'react';
import { LatchkeyProblem } from '../../../src/surfaces/client/index.js';
import { type Access, probeAccess } from '../api/access.js';
import { messageOf } from '../api/problems.js';
import { clientFor, storeSession } from '../api/session.js';
import { Notice } from '../components/feedback.js';
import { Icon } from '../components/icons.js';

/**
 * Sign-in with an API key. The key goes to this tab's sessionStorage only and is sent as a
 * Bearer header; nothing else about it is kept.
 */
export function SignInPage({ onSignedIn, note }: { onSignedIn: (apiKey: string, access: Access) => void; note: string | null }) {
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const apiKey = input.current?.value.trim() ?? '';
    if (!apiKey) {
      setError('Enter an API key.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const access = await probeAccess(clientFor(apiKey));
      storeSession(apiKey, JSON.stringify(access));
      if (input.current) input.current.value = '';
      onSignedIn(apiKey, access);
    } catch (e) {
      setError(e instanceof LatchkeyProblem && e.status === 401 ? 'That API key was not accepted. Check it and try again.' : messageOf(e));
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <div className="signin-card">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true">
            <Icon name="key" size={22} />
          </span>
          <span>
            Latchkey <span className="brand-sub">Studio</span>
          </span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">Use an API key of your tenant. What you can do here follows the key’s role; the API checks every action anyway.</p>
        {note ? <Notice tone="warning">{note}</Notice> : null}
        <form onSubmit={submit} noValidate>
          <div className={`field${error ? ' field-invalid' : ''}`}>
            <label htmlFor={id} className="field-label">
              API key
            </label>
            <input
              ref={input}
              id={id}
              name="apiKey"
              className="input mono"
              type="password"
              autoComplete="off"
              spellCheck={false}
              autoFocus
              aria-invalid={error ? true : undefined}
              aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
              placeholder="lk_…"
            />
            <p id={`${id}-hint`} className="field-hint">
              Kept in this browser tab’s session storage only, and removed when you sign out or close the tab.
            </p>
            {error ? (
              <p id={`${id}-error`} className="field-error" role="alert">
                {error}
              </p>
            ) : null}
          </div>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </form>
      </div>
      <p className="signin-foot muted small">
        No key yet? The first start of the server prints the first admin key, and <code>latchkey</code> CLI can create more.
      </p>
    </main>
  );
}
