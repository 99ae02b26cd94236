/**
 * Merges a config patch into stored config key by key: a value replaces, `null` removes.
 * Used by every partial update of non-secret config (integrations and connections).
 */
export function mergeConfig(stored: Record<string, unknown>, patch: Record<string, unknown> | undefined): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...stored };
  for (const [name, value] of Object.entries(patch ?? {})) {
    if (value === null) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}
