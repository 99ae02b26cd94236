/**
 * Whether this instance should receive new traffic. `latchkey serve` marks it draining on
 * SIGTERM/SIGINT, so `/readyz` answers 503 and load balancers stop routing here while
 * in-flight requests finish.
 *
 * @example
 * ```ts
 * const readiness = new Readiness();
 * readiness.startDraining();
 * readiness.draining; // true
 * ```
 */
export class Readiness {
  private since: Date | null = null;

  /** True once draining started; never goes back. */
  get draining(): boolean {
    return this.since !== null;
  }

  /** When draining started, or null. */
  get drainingSince(): Date | null {
    return this.since;
  }

  startDraining(now: Date = new Date()): void {
    this.since ??= now;
  }
}
