import { type RefObject, useState } from 'react';
import type { FieldErrorMap } from '../api/problems.js';
import { fieldErrorsOf } from '../api/problems.js';
import { useAction } from '../api/use-load.js';
import { useFocusFirstInvalid } from '../components/field.js';
import { mergeErrors } from './errors.js';

/**
 * A form's submit action and its field errors: the server's (from the action's problem)
 * merged with the form's own checks (`setLocal`), the form's winning for the same path.
 * Given the form, the first invalid field gets focus whenever either changes.
 *
 * @example
 * ```tsx
 * const { action, setLocal, errors } = useFormErrors(formRef);
 * setLocal(new Map([['url', 'is required']]));
 * <Field error={errorAt(errors, 'url')}>…</Field>
 * ```
 */
export function useFormErrors(form?: RefObject<HTMLElement | null>) {
  const [local, setLocal] = useState<FieldErrorMap>(new Map());
  const action = useAction();
  useFocusFirstInvalid(form ?? NO_FORM, action.error, local);
  const errors = mergeErrors(fieldErrorsOf(action.error), local);
  return { action, local, setLocal, errors };
}

/** Focus management needs a ref; forms that do not ask for it pass this empty one. */
const NO_FORM: RefObject<HTMLElement | null> = { current: null };
