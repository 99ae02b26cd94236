/**
 * One labelled filter of a list page: a select whose first choice, "All", clears it.
 *
 * @example
 * ```tsx
 * <FilterSelect label="Scope" value={scope} onChange={(v) => setFilter('scope', v)} options={[['global', 'Global'], ['user', 'User']]} />
 * ```
 */
export function FilterSelect({ label, value, onChange, options }: { label: string; value: string; onChange: (value: string) => void; options: readonly (readonly [string, string])[] }) {
  return (
    <label className="filter">
      <span className="filter-label">{label}</span>
      <select className="input" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">All</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
