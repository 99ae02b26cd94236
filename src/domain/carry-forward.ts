/**
 * Carry-forward of write-only secrets: an omitted field keeps its stored value, `null`
 * deletes it, a string replaces it. Pure, so the rule is testable on its own and every
 * record kind (integration secrets, connection credentials) shares it.
 */
export interface SecretPlan {
  /** Fields to (over)write with these values. */
  set: Record<string, string>;
  /** Fields to delete. */
  remove: string[];
  /** Field names that will be set once the plan is applied. */
  resulting: Set<string>;
}

export function carryForwardSecrets(stored: ReadonlySet<string>, incoming: Record<string, string | null> | undefined): SecretPlan {
  // Null prototype: a field named like an Object.prototype member is an ordinary key here.
  const set: Record<string, string> = Object.create(null);
  const remove: string[] = [];
  const resulting = new Set(stored);
  for (const [name, value] of Object.entries(incoming ?? {})) {
    if (value === null) {
      if (stored.has(name)) remove.push(name);
      resulting.delete(name);
    } else {
      set[name] = value;
      resulting.add(name);
    }
  }
  return { set, remove, resulting };
}

/** `{ field: true|false }` for every declared secret field, as shown on records. */
export function hasSecretsMap(declared: readonly string[], present: ReadonlySet<string>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const name of declared) out[name] = present.has(name);
  for (const name of present) out[name] = true;
  return out;
}
