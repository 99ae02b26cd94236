import { type DatabaseIntrospector, type DatabaseMetadata, type Kysely, type SchemaMetadata, type TableMetadata, sql } from 'kysely';

/**
 * A PostgreSQL introspector that sees only one schema.
 *
 * Kysely's own introspector reads every table of every schema and calls
 * `pg_get_serial_sequence` on each column. In a database shared by several deployments
 * (or test files), a schema dropped during that scan makes the whole query fail with
 * "schema … does not exist" — so a migration could fail because of a neighbour. The
 * migrator only needs to know whether its own schema and tables exist; this answers
 * exactly that, without columns.
 */
export function currentSchemaIntrospector(db: Kysely<any>, schema: string): DatabaseIntrospector {
  const getTables = async (): Promise<TableMetadata[]> => {
    const rows = await sql<{ name: string; type: string }>`
      select table_name as name, table_type as type from information_schema.tables where table_schema = ${schema}`.execute(db);
    return rows.rows.map((r) => ({ name: r.name, schema, isView: r.type === 'VIEW', columns: [] }));
  };
  return {
    async getSchemas(): Promise<SchemaMetadata[]> {
      const rows = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
      return rows.rows;
    },
    getTables,
    async getMetadata(): Promise<DatabaseMetadata> {
      return { tables: await getTables() };
    },
  };
}

/**
 * The same Kysely instance, but answering `introspection` from {@link currentSchemaIntrospector}.
 * Kysely keeps its state in private fields, so every other member is read from (and bound
 * to) the real instance.
 *
 * @example
 * ```ts
 * new Migrator({ db: scopedToSchema(db, 'tenant_a'), provider, migrationTableSchema: 'tenant_a' });
 * ```
 */
export function scopedToSchema<DB>(db: Kysely<DB>, schema: string): Kysely<DB> {
  const introspection = currentSchemaIntrospector(db as Kysely<any>, schema);
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'introspection') return introspection;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
