import type { Logger } from 'pino';

export interface PeriodicTaskOptions {
  /** What the task is, for its log lines. */
  name: string;
  /** Delay before the first run. */
  firstMs: number;
  /** Delay between the end of one run and the start of the next. */
  intervalMs: number;
  logger: Logger;
}

/**
 * Runs `task` in the background: first after `firstMs`, then `intervalMs` after each run
 * ends, so runs never overlap however slow the database is. A failure is logged as a
 * warning and retried at the next turn. Timers are unref'd (they never hold the process
 * open); `stop()` ends the loop. `task` returns a count to log when it did something.
 *
 * @example
 * ```ts
 * const loop = startPeriodicTask(() => idempotency.purgeExpired(db, new Date()), { name: 'idempotency purge', firstMs: 60_000, intervalMs: 900_000, logger });
 * loop.stop();
 * ```
 */
export function startPeriodicTask(task: () => Promise<number>, opts: PeriodicTaskOptions): { stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = async () => {
    try {
      const done = await task();
      if (done > 0) opts.logger.info({ task: opts.name, done }, `${opts.name}: done`);
    } catch (error) {
      opts.logger.warn({ err: error, task: opts.name }, `${opts.name} failed; will try again`);
    }
    if (!stopped) timer = setTimeout(tick, opts.intervalMs).unref();
  };
  timer = setTimeout(tick, opts.firstMs).unref();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
