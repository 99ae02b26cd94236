import type { Logger } from 'pino';
import type { ConnectSessions } from './connect-sessions.js';
import type { TokenService } from './token-service.js';

/**
 * Runs {@link TokenService.sweep} every `intervalMs` so tokens are refreshed before anyone
 * needs them, and clears long-expired connect sessions. One sweep at a time per process;
 * the refresh leases keep instances from refreshing the same connection twice.
 */
export class RefreshSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly tokens: TokenService,
    private readonly sessions: ConnectSessions,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** One sweep now (also what the timer calls); overlapping calls share the running sweep. */
  async runOnce(): Promise<void> {
    if (this.running) {
      await this.running;
      return;
    }
    this.running = Promise.all([this.tokens.sweep(), this.sessions.purgeExpired()])
      .then(([r, purged]) => {
        if (r.attempted > 0 || purged > 0) this.logger.info({ attempted: r.attempted, refreshed: r.refreshed, failed: r.failed, purgedSessions: purged }, 'refresh sweep');
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'refresh sweep failed'))
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
