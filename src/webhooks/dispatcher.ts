import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { OutboundGuard } from '../net/outbound-guard.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/database.js';
import type { SecretStore } from '../store/secret-store.js';
import { type ClaimedDelivery, claimDueDeliveries, pruneFinishedDeliveries, recordAttempt, releaseLease } from './delivery-claims.js';
import type { WebhookOutbox } from './outbox.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-schedule.js';
import { type AttemptOutcome, sendWebhook } from './webhook-sender.js';
import { webhookHeaders } from './webhook-signature.js';

export interface DispatcherOptions {
  store: Store;
  secrets: SecretStore;
  outbox: WebhookOutbox;
  /** The operator-level outbound guard (LATCHKEY_ALLOW_PRIVATE_NETWORKS). */
  guard: OutboundGuard;
  logger: Logger;
  /** Counts attempts by outcome (succeeded, retry_scheduled, failed). */
  metrics?: Pick<Metrics, 'webhookDelivery'>;
  /** Longest one attempt may take. */
  timeoutMs: number;
  retry?: RetryPolicy;
  /** Pause between passes that found nothing to do. */
  pollIntervalMs: number;
  /** Deliveries claimed (and sent side by side) per pass. */
  batchSize?: number;
  /** Finished deliveries are deleted after this long. */
  retentionMs?: number;
  userAgent: string;
  clock?: () => Date;
  random?: () => number;
}

/** What one pass did. */
export interface PassResult {
  claimed: number;
  succeeded: number;
  /** Attempts that failed (retried later, or given up on). */
  failed: number;
}

const PRUNE_EVERY_MS = 60 * 60_000;
/** Time an attempt keeps in hand before its lease ends (clock skew, recording the outcome). */
const LEASE_MARGIN_MS = 15_000;

/** An AbortController whose signal takes one listener per attempt in flight (more than Node's warning level of 10). */
function unboundedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
/** Wait after an enqueue before the pass that picks it up: long enough for the change to commit. */
const KICK_DELAY_MS = 20;

/**
 * Delivers the outbox: claims due deliveries (see `claimDueDeliveries`), signs and POSTs
 * each through the outbound guard, records the outcome and schedules retries with
 * exponential backoff and jitter. Runs in the server process: `start()` polls until
 * `stop()`; `runOnce()` is one pass, for tests and tools that want to drive it.
 *
 * @example
 * ```ts
 * const dispatcher = new WebhookDispatcher({ store, secrets, outbox, guard, logger, timeoutMs: 10_000, pollIntervalMs: 1000, userAgent: 'Latchkey/1.0' });
 * dispatcher.start();
 * // …
 * await dispatcher.stop();
 * ```
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = 0;
  private running = false;
  private current: Promise<PassResult> | null = null;
  private abort = unboundedController();
  private lastPrune = 0;
  private removeListener: (() => void) | null = null;
  private readonly retry: RetryPolicy;
  private readonly batchSize: number;
  private readonly clock: () => Date;

  constructor(private readonly opts: DispatcherOptions) {
    this.retry = opts.retry ?? DEFAULT_RETRY_POLICY;
    this.batchSize = opts.batchSize ?? 25;
    this.clock = opts.clock ?? (() => new Date());
  }

  /** Whether the background loop is on. */
  get started(): boolean {
    return this.running;
  }

  /** Starts polling (idempotent). An enqueue in this process triggers a pass at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = unboundedController();
    this.removeListener = this.opts.outbox.onEnqueued(() => this.schedule(KICK_DELAY_MS));
    this.schedule(0);
  }

  /** Stops polling, aborts attempts in flight (they are retried later) and waits for the pass to end. */
  async stop(): Promise<void> {
    this.running = false;
    this.removeListener?.();
    this.removeListener = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.current?.catch(() => undefined);
  }

  /**
   * Runs one pass now: claim due deliveries, attempt each, record the outcomes. `now`
   * overrides the clock for this pass (tests use it to make a scheduled retry due).
   */
  runOnce(now?: Date): Promise<PassResult> {
    const pass = this.pass(now ?? this.clock()).finally(() => {
      if (this.current === pass) this.current = null;
    });
    this.current = pass;
    return pass;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    const dueAt = Date.now() + delayMs;
    if (this.timer) {
      // One wake-up at a time: the sooner one wins.
      if (this.timerDueAt <= dueAt) return;
      clearTimeout(this.timer);
    }
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.loop();
    }, delayMs);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    if (!this.running) return;
    if (this.current) {
      // A pass is under way (perhaps started by runOnce); look again when it ends.
      await this.current.catch(() => undefined);
    }
    let result: PassResult = { claimed: 0, succeeded: 0, failed: 0 };
    try {
      result = await this.runOnce();
    } catch (error) {
      this.opts.logger.error({ err: error }, 'webhook dispatch pass failed');
    }
    // A full batch means more may be due: go again at once.
    this.schedule(result.claimed >= this.batchSize ? 0 : this.opts.pollIntervalMs);
  }

  private async pass(now: Date): Promise<PassResult> {
    const { store } = this.opts;
    // Long enough for a few attempts in a row to one endpoint; an attempt that could outlive
    // the lease is not started (see `attempt`), so an expired lease never means two senders.
    const leaseMs = this.opts.timeoutMs * 4 + LEASE_MARGIN_MS * 2;
    const claimed = await claimDueDeliveries(store.db, store.engine, { now, limit: this.batchSize, leaseMs });
    // Endpoints side by side; each endpoint's deliveries one after another, in event order
    // (so a receiver sees created before deleted, barring retries).
    const byEndpoint = new Map<string, ClaimedDelivery[]>();
    for (const delivery of claimed) byEndpoint.set(delivery.endpoint_uid, [...(byEndpoint.get(delivery.endpoint_uid) ?? []), delivery]);
    const outcomes = (
      await Promise.all(
        [...byEndpoint.values()].map(async (queue) => {
          const results: Array<'succeeded' | 'failed' | 'skipped'> = [];
          for (const delivery of queue) results.push(await this.attempt(delivery));
          return results;
        }),
      )
    ).flat();
    await this.prune();
    return { claimed: claimed.length, succeeded: outcomes.filter((o) => o === 'succeeded').length, failed: outcomes.filter((o) => o === 'failed').length };
  }

  private async attempt(delivery: ClaimedDelivery): Promise<'succeeded' | 'failed' | 'skipped'> {
    const { store, secrets, guard, logger } = this.opts;
    // Not enough lease left for a whole attempt (a slow queue before it): hand it back
    // uncounted rather than risk another instance sending it too once the lease ends.
    if (this.clock().getTime() + this.opts.timeoutMs + LEASE_MARGIN_MS > Date.parse(delivery.lease_until!)) {
      await releaseLease(store.db, delivery).catch(() => undefined);
      return 'skipped';
    }
    let outcome: AttemptOutcome;
    try {
      const endpoint = await store.db.selectFrom('webhook_endpoints').select(['url']).where('uid', '=', delivery.endpoint_uid).executeTakeFirst();
      const { signingSecret } = await secrets.read(store.db, delivery.tenant_id, 'webhook', delivery.endpoint_uid);
      if (!endpoint || !signingSecret) {
        outcome = { ok: false, statusCode: null, error: { code: 'endpoint_missing', message: 'the endpoint or its signing secret is gone' }, durationMs: 0 };
      } else {
        const headers = { ...webhookHeaders(signingSecret, delivery.id, this.clock(), delivery.payload), 'user-agent': this.opts.userAgent };
        outcome = await sendWebhook({ url: endpoint.url, headers, body: delivery.payload, guard, timeoutMs: this.opts.timeoutMs, signal: this.abort.signal });
      }
    } catch (error) {
      logger.error({ err: error, delivery: delivery.id }, 'webhook attempt failed unexpectedly');
      outcome = { ok: false, statusCode: null, error: { code: 'internal', message: 'the attempt could not be made' }, durationMs: 0 };
    }
    // Stopping mid-attempt says nothing about the receiver: hand the delivery back, uncounted.
    if (outcome.error?.code === 'aborted') {
      await releaseLease(store.db, delivery).catch(() => undefined);
      return 'skipped';
    }
    const recorded = await recordAttempt(store.db, delivery, outcome, { now: this.clock(), retry: this.retry, ...(this.opts.random ? { random: this.opts.random } : {}) });
    // Ids, codes and times only: never the URL (it may itself be a credential) or the payload.
    const fields = { delivery: delivery.id, endpoint: delivery.endpoint_uid, event: delivery.event_type, attempt: recorded.number, statusCode: recorded.statusCode, status: recorded.status };
    this.opts.metrics?.webhookDelivery(outcome.ok ? 'succeeded' : recorded.status === 'pending' ? 'retry_scheduled' : 'failed');
    if (outcome.ok) logger.debug(fields, 'webhook delivered');
    else logger.warn({ ...fields, error: outcome.error?.code, nextAttemptAt: recorded.nextAttemptAt }, 'webhook attempt failed');
    return outcome.ok ? 'succeeded' : 'failed';
  }

  private async prune(): Promise<void> {
    // The real clock, not a pass's `now`: a test's pass in the future must not postpone pruning.
    const now = this.clock();
    if (now.getTime() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now.getTime();
    const retention = this.opts.retentionMs ?? 30 * 24 * 60 * 60_000;
    await pruneFinishedDeliveries(this.opts.store.db, new Date(now.getTime() - retention)).catch((error: unknown) =>
      this.opts.logger.warn({ err: error }, 'pruning old webhook deliveries failed'),
    );
  }
}
