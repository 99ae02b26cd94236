import { useId, useRef, useState } from 'react';
import { Icon } from './icons.js';

/**
 * A read-only value with a Copy button: for a new API key (shown once) or a connect URL.
 * Falls back to selecting the text when the clipboard API is unavailable (plain HTTP
 * on a non-local host).
 */
export function CopyField({ label, value, testId }: { label: string; value: string; testId?: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      input.current?.select();
      document.execCommand?.('copy');
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 2000);
  };
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <div className="copy-row">
        <input id={id} ref={input} className="input mono" readOnly value={value} onFocus={(e) => e.target.select()} data-testid={testId} spellCheck={false} />
        <button type="button" className="btn btn-secondary" onClick={copy}>
          <Icon name={copied ? 'check' : 'copy'} size={16} />
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <span className="sr-only" aria-live="polite">
        {copied ? 'Copied to the clipboard' : ''}
      </span>
    </div>
  );
}
