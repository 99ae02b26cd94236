import { type ReactNode, type RefObject, useEffect, useId } from 'react';

export interface FieldIds {
  id: string;
  describedBy: string | undefined;
  invalid: boolean;
  required: boolean;
}

/**
 * A labelled form row: the label, the control, a hint and the server's message for this
 * field (from a problem's `errors[].path`), wired together with ids so screen readers
 * read the hint and the error with the control.
 */
export function Field({
  label,
  hint,
  error,
  required,
  children,
  className,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  required?: boolean;
  children: (ids: FieldIds) => ReactNode;
  className?: string;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      {/* The required mark is drawn by CSS so the label's text stays the field's name. */}
      <label htmlFor={id} className={`field-label${required ? ' is-required' : ''}`}>
        {label}
      </label>
      {children({ id, describedBy, invalid: Boolean(error), required: Boolean(required) })}
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A checkbox with its label on the right and an optional hint and error. */
export function CheckField({
  label,
  hint,
  checked,
  onChange,
  error,
  disabled,
}: {
  label: ReactNode;
  hint?: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  error?: string | undefined;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className={`field field-check${error ? ' field-invalid' : ''}`}>
      <div className="check-row">
        <input
          id={id}
          type="checkbox"
          checked={checked}
          disabled={disabled}
          onChange={(e) => onChange(e.target.checked)}
          aria-invalid={error ? true : undefined}
          aria-describedby={[hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined}
        />
        <label htmlFor={id}>{label}</label>
      </div>
      {hint ? (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * Moves focus to the first invalid field once a form's errors are on screen, so keyboard
 * and screen-reader users land on what needs fixing. Runs after the render that shows
 * them (an effect), whatever made them: the server's problem or the form's own checks.
 */
export function useFocusFirstInvalid(form: RefObject<HTMLElement | null>, ...triggers: unknown[]): void {
  useEffect(() => {
    if (triggers.every((t) => t === undefined || t === null || (t instanceof Map && t.size === 0))) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, triggers); // re-run whenever a new error (or a new set of them) is shown
}

/** The accessibility wiring every control inside a Field gets: `<input {...fieldProps(ids)} />`. */
export const fieldProps = ({ id, describedBy, invalid, required }: FieldIds) => ({
  id,
  'aria-describedby': describedBy,
  'aria-invalid': invalid || undefined,
  'aria-required': required || undefined,
});
