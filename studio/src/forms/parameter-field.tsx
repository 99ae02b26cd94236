import type { ProviderParameter } from '../../../src/providers/provider-schema.js';
import { CheckField, Field } from '../components/field.js';
import type { FormValue } from './parameter-values.js';

/**
 * One non-secret provider parameter as a form control, chosen from its metadata: a
 * checkbox for booleans, a select for option lists, a number input with the declared
 * range, a textarea for JSON, a text input with the declared pattern otherwise.
 */
export function ParameterField({
  param,
  value,
  onChange,
  error,
}: {
  param: ProviderParameter;
  value: FormValue;
  onChange: (value: FormValue) => void;
  error: string | undefined;
}) {
  const hint = hintOf(param);
  if (param.type === 'boolean' || param.uiHint === 'checkbox') {
    return <CheckField label={param.displayName} hint={hint} checked={value === true} onChange={onChange} error={error} />;
  }
  const required = param.required && param.defaultValue === undefined;
  return (
    <Field label={param.displayName} hint={hint} error={error} required={required}>
      {({ id, describedBy, invalid }) => {
        const common = {
          id,
          name: param.name,
          'aria-describedby': describedBy,
          'aria-invalid': invalid || undefined,
          'aria-required': required || undefined,
          'data-param': param.name,
        };
        const text = typeof value === 'string' ? value : '';
        if (param.type === 'enum' || param.options) {
          return (
            <select {...common} className="input" value={text} onChange={(e) => onChange(e.target.value)}>
              {!required || text === '' ? <option value="">{required ? 'Choose…' : '(none)'}</option> : null}
              {(param.options ?? []).map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          );
        }
        if (param.type === 'json' || param.uiHint === 'textarea') {
          return <textarea {...common} className="input mono" rows={param.type === 'json' ? 6 : 3} value={text} onChange={(e) => onChange(e.target.value)} spellCheck={false} />;
        }
        if (param.type === 'integer' || param.type === 'number') {
          return (
            <input
              {...common}
              className="input"
              type="number"
              inputMode={param.type === 'integer' ? 'numeric' : 'decimal'}
              step={param.type === 'integer' ? 1 : 'any'}
              min={param.integerRange?.min}
              max={param.integerRange?.max}
              value={text}
              onChange={(e) => onChange(e.target.value)}
            />
          );
        }
        return (
          <input
            {...common}
            className={`input${param.uiHint === 'url' ? ' mono' : ''}`}
            type="text"
            inputMode={param.uiHint === 'url' ? 'url' : undefined}
            autoComplete="off"
            spellCheck={false}
            placeholder={param.uiHint === 'url' ? 'https://' : param.defaultValue !== undefined ? String(param.defaultValue) : undefined}
            value={text}
            onChange={(e) => onChange(e.target.value)}
          />
        );
      }}
    </Field>
  );
}

function hintOf(param: ProviderParameter): string | undefined {
  const parts = [param.description];
  if (param.defaultValue !== undefined && param.type !== 'boolean') parts.push(`Default: ${JSON.stringify(param.defaultValue)}.`);
  if (param.integerRange) parts.push(`${param.integerRange.min}–${param.integerRange.max}.`);
  return parts.filter(Boolean).join(' ') || undefined;
}
