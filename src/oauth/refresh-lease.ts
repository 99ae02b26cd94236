import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/**
 * A refresh lease on a connection row: at most one instance (of any number sharing the
 * database) refreshes a connection's token at a time. Taking it is one conditional
 * UPDATE — it succeeds only when nobody holds the lease or the holder's lease ran out (a
 * crashed instance) — so it works the same on SQLite and PostgreSQL and never holds a
 * transaction open across the token request.
 */
export class RefreshLease {
  constructor(
    private readonly db: Kysely<Database>,
    /** Who holds leases taken here: one id per process. */
    readonly owner: string,
    private readonly durationMs: number,
  ) {}

  /** True when this instance now holds the lease on `uid`. */
  async acquire(uid: string, now: Date): Promise<boolean> {
    const nowText = now.toISOString();
    const result = await this.db
      .updateTable('connections')
      .set({ refresh_lock_owner: this.owner, refresh_lock_until: new Date(now.getTime() + this.durationMs).toISOString() })
      .where('uid', '=', uid)
      .where((eb) => eb.or([eb('refresh_lock_until', 'is', null), eb('refresh_lock_until', '<', nowText)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives the lease back, only if it is still ours (a lease that expired may have been taken over). */
  async release(uid: string, db: Kysely<Database> = this.db): Promise<void> {
    await db.updateTable('connections').set({ refresh_lock_owner: null, refresh_lock_until: null }).where('uid', '=', uid).where('refresh_lock_owner', '=', this.owner).execute();
  }
}
