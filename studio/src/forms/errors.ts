import type { FieldErrorMap } from '../api/problems.js';

/** The message for a field: its exact path, or the first error under it (`tags` ← `tags.2`). */
export function errorAt(errors: FieldErrorMap, path: string): string | undefined {
  const exact = errors.get(path);
  if (exact) return exact;
  for (const [p, message] of errors) if (p.startsWith(`${path}.`)) return `${p.slice(path.length + 1)}: ${message}`;
  return undefined;
}

/** Server errors and the form's own checks together; the form's own win for the same path. */
export function mergeErrors(server: FieldErrorMap, local: FieldErrorMap): FieldErrorMap {
  if (local.size === 0) return server;
  return new Map([...server, ...local]);
}
