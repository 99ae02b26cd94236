import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A stand-in value for argument `i` while the query is compiled the first time. */
const placeholder = (i: number): string => `\u0000lk-arg-${i}\u0000`;

interface Template<Row> {
  query: CompiledQuery<Row>;
  /** For each bound parameter: the argument it takes, or null for a constant of the query. */
  slots: Array<number | null>;
}

/**
 * A query of fixed shape, built and compiled once per SQL dialect and then run with new
 * argument values. Why: on SQLite, building and compiling a Kysely query cost about as much
 * as running it (measured: 20 µs to build and compile the connection read, 16 µs to run its
 * prepared statement), and the hottest queries run on every request.
 *
 * `build` must produce the same SQL whatever the arguments (no branching on them), and
 * use each argument as a bound value as it is (not inside a string built in JS): the first
 * compilation checks that every argument became exactly one parameter, and throws if not.
 * Nor compare an argument with `is` / `is not`: Kysely writes a literal `null` there, not a
 * bound value. `arity` is the number of arguments, `build.length - 1` unless `build` takes a rest parameter.
 *
 * @example
 * ```ts
 * const byKey = reusableQuery((db, tenantId: string, key: string) =>
 *   db.selectFrom('integrations').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key));
 * const [row] = await byKey(db, 'default', 'github-prod');
 * ```
 */
export function reusableQuery<A extends unknown[], Row>(build: (db: Kysely<Database>, ...args: A) => { compile(): CompiledQuery<Row> }, arity = build.length - 1) {
  // A rest parameter counts for nothing in `build.length`: such a build must say its arity.
  if (arity < 1) throw new Error('reusableQuery: build takes no counted arguments; pass its arity');
  // Keyed by the dialect's adapter, which a database handle shares with its transactions.
  const templates = new WeakMap<object, Template<Row>>();
  const templateFor = (db: Kysely<Database>): Template<Row> => {
    const adapter = db.getExecutor().adapter;
    let template = templates.get(adapter);
    if (template) return template;
    const names = Array.from({ length: arity }, (_, i) => placeholder(i));
    // Placeholders stand in for every argument type: a bound value's type never changes the SQL.
    const query = build(db, ...(names as unknown as A)).compile();
    // A parameter left undefined means an argument `build.length` did not count (a default or rest parameter).
    if (query.parameters.some((p) => p === undefined)) throw new Error(`reusableQuery: build must declare every argument as a plain parameter: ${query.sql}`);
    const slots = query.parameters.map((p) => (typeof p === 'string' && names.includes(p) ? names.indexOf(p) : null));
    for (let i = 0; i < names.length; i++) {
      if (slots.filter((s) => s === i).length !== 1) throw new Error(`reusableQuery: argument ${i} is not bound exactly once in: ${query.sql}`);
    }
    template = { query, slots };
    templates.set(adapter, template);
    return template;
  };
  return async (db: Kysely<Database>, ...args: A): Promise<Row[]> => {
    const { query, slots } = templateFor(db);
    const parameters = slots.map((slot, i) => (slot === null ? query.parameters[i] : args[slot]));
    const result = await db.executeQuery<Row>({ ...query, parameters });
    return result.rows;
  };
}
