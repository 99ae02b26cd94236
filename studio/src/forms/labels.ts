/** Labels as `key=value` lines, the way people write them. */
export const labelsToText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');

/** Parses `key=value` lines; a line without `=` is an error (returned, not thrown). */
export function textToLabels(text: string): { labels: Record<string, string>; error: string | null } {
  const labels: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf('=');
    if (at <= 0) return { labels, error: `line ${i + 1}: write key=value` };
    labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { labels, error: null };
}

/** Parses a metadata editor: empty is `{}`, otherwise a JSON object. */
export function parseObject(text: string): { value: Record<string, unknown>; error: string | null } {
  if (!text.trim()) return { value: {}, error: null };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { value: {}, error: 'must be a JSON object' };
    return { value: value as Record<string, unknown>, error: null };
  } catch (e) {
    return { value: {}, error: `is not valid JSON (${(e as Error).message})` };
  }
}
