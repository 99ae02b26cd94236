import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { chainedFieldsOf } from './audit-log.js';

const BATCH = 1000;

/**
 * Writes audit events as JSON lines — tenant by tenant, in sequence order, each with its
 * `prevHash` and `hash` so the export can be checked against the chain later. Events hold
 * names of changed fields and secrets, never values. Returns how many were written.
 *
 * @example
 * ```ts
 * await exportAuditEvents(db, process.stdout, { tenantId: 'default' });
 * ```
 */
export async function exportAuditEvents(
  db: Kysely<Database>,
  out: NodeJS.WritableStream,
  opts: { tenantId?: string; since?: Date } = {},
): Promise<number> {
  let count = 0;
  const write = (line: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.write(line)) return resolve();
      out.once('drain', resolve);
      out.once('error', reject);
    });
  let tenants = db.selectFrom('tenants').select('id').orderBy('id');
  if (opts.tenantId) tenants = tenants.where('id', '=', opts.tenantId);
  for (const { id } of await tenants.execute()) {
    for (let after = 0; ; ) {
      let query = db.selectFrom('audit_events').selectAll().where('tenant_id', '=', id).where('seq', '>', after).orderBy('seq').limit(BATCH);
      if (opts.since) query = query.where('at', '>=', opts.since.toISOString());
      const rows = await query.execute();
      for (const row of rows) {
        await write(`${JSON.stringify(chainedFieldsOf(row))}\n`);
        count++;
      }
      if (rows.length < BATCH) break;
      after = Number(rows.at(-1)!.seq);
    }
  }
  return count;
}
