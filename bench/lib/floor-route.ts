import SqliteDatabase from 'better-sqlite3';
import type { Latchkey } from '../../src/app.js';
import { Authenticator } from '../../src/domain/access/authenticator.js';
import { toConnectionRecord } from '../../src/domain/connections/connection-rows.js';
import { canSee } from '../../src/domain/visibility.js';
import { presentedKey } from '../../src/surfaces/http/request-headers.js';
import type { ConnectionTable } from '../../src/store/schema.js';

/** The what-if route's URL prefix: `${FLOOR_PREFIX}/{key}/connections/{id}`. */
export const FLOOR_PREFIX = '/bench-floor/integrations';
/** A route on the same instance that answers the last record the floor route built: the hooks' cost alone. */
export const HOOKS_ONLY_PATH = '/bench-floor/hooks-only';

/**
 * A what-if route, registered only when a benchmark asks for it (BENCH_FLOOR=1, SQLite):
 * the same read as `GET /v1/integrations/{key}/connections/{id}` — same Fastify instance,
 * hooks, headers, authentication (Authenticator cache) and record mapping — but with one
 * prepared, joined SQL statement instead of three Kysely queries, and without the
 * registry's zod input/output parses. Its cost is a floor for what the read path could be.
 * It is never part of Latchkey; it lives in the benchmark's server process only.
 */
export function registerFloorRoute(lk: Latchkey, dbFile: string): () => void {
  const raw = new SqliteDatabase(dbFile, { readonly: true });
  raw.pragma('journal_mode = WAL');
  const stmt = raw.prepare(
    `select c.*, i.scope as i_scope, i.workspace_id as i_workspace_id, i.owner_user_id as i_owner_user_id,
            (select group_concat(s.field) from secrets s where s.owner_uid = c.uid) as secret_names
       from integrations i join connections c on c.integration_uid = i.uid
      where i.tenant_id = ? and i.key = ? and c.id = ?`,
  );
  const authenticator = new Authenticator(lk.services.store);
  const catalog = lk.services.catalog;
  let lastRecord: unknown = null;
  lk.app.get(HOOKS_ONLY_PATH, async () => lastRecord);
  lk.app.get<{ Params: { key: string; id: string } }>(`${FLOOR_PREFIX}/:key/connections/:id`, async (request, reply) => {
    const token = presentedKey(request.headers);
    const principal = token ? await authenticator.authenticate(token) : null;
    if (!principal) return reply.code(401).send({ title: 'unauthenticated' });
    type Row = ConnectionTable & { i_scope: string; i_workspace_id: string | null; i_owner_user_id: string | null; secret_names: string | null };
    const row = stmt.get(principal.tenantId, request.params.key, request.params.id) as Row | undefined;
    if (!row || !canSee(principal, { scope: row.i_scope, workspace_id: row.i_workspace_id, owner_user_id: row.i_owner_user_id })) return reply.code(404).send({ title: 'not found' });
    const names = new Set(row.secret_names ? row.secret_names.split(',') : []);
    const record = toConnectionRecord(row, names, catalog, new Date());
    reply.header('etag', `"${record.version}"`);
    lastRecord = record;
    return record;
  });
  return () => raw.close();
}
