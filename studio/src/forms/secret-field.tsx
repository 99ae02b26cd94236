import { useCallback, useRef, useState } from 'react';
import { SecretStateBadge } from '../components/badge.js';
import { Field } from '../components/field.js';

export type SecretMode = 'keep' | 'replace' | 'remove';

/** A write-only field as the form knows it: its name and whether a value is stored. */
export interface SecretSpec {
  name: string;
  label: string;
  description?: string;
  required?: boolean;
  multiline?: boolean;
}

/**
 * The secret inputs of one form. Typed values stay in the DOM inputs (uncontrolled, so
 * React never copies them into state or into a `value` attribute) until `collect` reads
 * them for the request; `reset` empties the inputs and puts every field back to "keep".
 * The change it builds is carry-forward by construction: untouched fields are omitted
 * (kept), "Remove" sends `null`, "Replace" sends the new string.
 */
export function useSecretChanges() {
  const [modes, setModes] = useState<Record<string, SecretMode>>({});
  const inputs = useRef(new Map<string, HTMLInputElement | HTMLTextAreaElement>());
  const modeOf = useCallback((name: string): SecretMode => modes[name] ?? 'keep', [modes]);
  const setMode = useCallback((name: string, mode: SecretMode) => setModes((m) => ({ ...m, [name]: mode })), []);
  const register = useCallback((name: string) => (el: HTMLInputElement | HTMLTextAreaElement | null) => {
    if (el) inputs.current.set(name, el);
    else inputs.current.delete(name);
  }, []);

  /**
   * The `secrets` (or credential) changes to send, and the fields left empty in replace
   * mode. `creating`: every input is a new value, empty ones are simply not sent.
   */
  const collect = useCallback(
    (creating: boolean): { changes: Record<string, string | null>; empty: string[] } => {
      const changes: Record<string, string | null> = {};
      const empty: string[] = [];
      for (const [name, mode] of Object.entries(modes)) if (mode === 'remove') changes[name] = null;
      for (const [name, el] of inputs.current) {
        if (!creating && modeOf(name) !== 'replace') continue;
        if (el.value !== '') changes[name] = el.value;
        else if (!creating) empty.push(name);
      }
      return { changes, empty };
    },
    [modes, modeOf],
  );

  const reset = useCallback(() => {
    for (const el of inputs.current.values()) el.value = '';
    setModes({});
  }, []);

  return { modeOf, setMode, register, collect, reset };
}

export type SecretChanges = ReturnType<typeof useSecretChanges>;

/**
 * One secret: on a new record a password input; on a stored record only "set" / "not
 * set", with Replace (a fresh input), Remove (sends null) and Undo.
 */
export function SecretField({
  spec,
  isSet,
  control,
  error,
  creating,
  path,
}: {
  spec: SecretSpec;
  /** Whether the stored record has a value (from `hasSecrets`); ignored when creating. */
  isSet: boolean;
  control: SecretChanges;
  error: string | undefined;
  creating: boolean;
  /** The problem path of this field (`secrets.clientSecret`), for tests and errors. */
  path: string;
}) {
  const mode = creating ? 'replace' : control.modeOf(spec.name);
  const hint = spec.description || undefined;
  return (
    <Field label={spec.label} hint={hint} error={error} required={spec.required && creating} className="field-secret">
      {({ id, describedBy, invalid }) => (
        <div className="secret" data-secret-field={path}>
          {!creating ? (
            <div className="secret-state">
              <SecretStateBadge set={isSet} />
              {mode === 'replace' ? <span className="muted small">{isSet ? 'will be replaced on save' : 'will be set on save'}</span> : null}
              {mode === 'remove' ? <span className="warn-text small">will be removed on save</span> : null}
              <span className="secret-actions">
                {mode === 'keep' ? (
                  <>
                    <button type="button" className="btn btn-small btn-secondary" onClick={() => control.setMode(spec.name, 'replace')} aria-label={`${isSet ? 'Replace' : 'Set'} ${spec.label}`}>
                      {isSet ? 'Replace' : 'Set'}
                    </button>
                    {isSet ? (
                      <button type="button" className="btn btn-small btn-ghost-danger" onClick={() => control.setMode(spec.name, 'remove')} aria-label={`Remove ${spec.label}`}>
                        Remove
                      </button>
                    ) : null}
                  </>
                ) : (
                  <button type="button" className="btn btn-small btn-secondary" onClick={() => control.setMode(spec.name, 'keep')} aria-label={`Keep the current ${spec.label}`}>
                    {mode === 'replace' ? 'Cancel' : 'Undo'}
                  </button>
                )}
              </span>
            </div>
          ) : null}
          {mode === 'replace' ? (
            spec.multiline ? (
              <textarea
                id={id}
                ref={control.register(spec.name)}
                className="input mono"
                rows={5}
                name={spec.name}
                autoComplete="off"
                spellCheck={false}
                aria-describedby={describedBy}
                aria-invalid={invalid || undefined}
                data-secret-input={path}
                autoFocus={!creating}
              />
            ) : (
              <input
                id={id}
                ref={control.register(spec.name)}
                className="input"
                type="password"
                name={spec.name}
                autoComplete="new-password"
                spellCheck={false}
                aria-describedby={describedBy}
                aria-invalid={invalid || undefined}
                data-secret-input={path}
                placeholder={creating ? undefined : 'New value'}
                autoFocus={!creating}
              />
            )
          ) : (
            // The label needs a target even when no input is shown.
            <span id={id} tabIndex={-1} className="sr-only">
              {isSet ? 'A value is stored.' : 'No value is stored.'}
            </span>
          )}
        </div>
      )}
    </Field>
  );
}
