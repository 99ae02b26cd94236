/**
 * Values that look like what a UI shows in place of a secret. Accepting one would store
 * the mask over the real secret (the round-trip bug n8n and Airbyte both shipped), so
 * they are refused with 422 and never stored.
 */
const MASK_PATTERNS: RegExp[] = [
  /^[*•●·]{3,}[A-Za-z0-9]{0,4}$/u, // ********, ••••, ****abcd
  /^[xX#]{6,}$/,
  /^_*\[?<?\s*(redacted|masked)\s*>?\]?_*$/i,
  // Other words only in the bracketed or underscored forms UIs use (a real value may be "secret").
  /^(?:_{1,2}|\[|<)\s*(hidden|secret|sensitive|removed)\s*(?:_{1,2}|\]|>)$/i,
  /^__n8n_blank_value_/i,
];

/** Masks are short; anything longer is a value, and is never run through the patterns. */
const LONGEST_MASK = 256;

export function isMaskLike(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed.length > LONGEST_MASK) return false;
  // `***…***` framing, checked without a backtracking regex (`^\*{3,}.*\*{3,}$` is cubic).
  if (trimmed.length >= 6 && trimmed.startsWith('***') && trimmed.endsWith('***')) return true;
  return MASK_PATTERNS.some((pattern) => pattern.test(trimmed));
}
