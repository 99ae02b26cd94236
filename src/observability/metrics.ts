import client from 'prom-client';
import type { SecretRef } from '../crypto/keyring.js';
import { TEST_ERROR_CODES, type TestErrorCode } from '../testers/test-result.js';

/**
 * How a token refresh ended: a new token, a revoked grant (`invalid_grant`), a retryable
 * failure, another refusal by the provider (`rejected`), or nothing to do (`skipped`).
 */
export const REFRESH_OUTCOMES = ['success', 'invalid_grant', 'transient_error', 'rejected', 'skipped'] as const;
export type RefreshOutcome = (typeof REFRESH_OUTCOMES)[number];
/** A connection test's outcome: `ok`, or its stable error code. */
export type ConnectionTestOutcome = 'ok' | TestErrorCode;
/**
 * What one webhook delivery attempt led to: `succeeded`, `retry_scheduled` (it failed and
 * another attempt is due), or `failed` (it failed and no attempts are left).
 */
export const WEBHOOK_OUTCOMES = ['succeeded', 'retry_scheduled', 'failed'] as const;
export type WebhookDeliveryOutcome = (typeof WEBHOOK_OUTCOMES)[number];
/** A use of a tenant data key. */
export type KeyOperation = 'encrypt' | 'decrypt';
/** Which kind of record a key was used for (bounded: never a tenant, key or record id). */
export type KeyUseKind = SecretRef['kind'] | 'unspecified';

/**
 * Latchkey's Prometheus metrics, on a registry of their own (never prom-client's global
 * one, so two instances in one process — tests, benchmarks — never share counters).
 *
 * Every label value is bounded and secret-free by construction: operation keys, status
 * classes and outcome enums. Tenant, connection and key ids never become labels: each
 * distinct value would be a new time series, and they would tell whoever reads the
 * metrics which customers exist.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ version: '0.1.0', engine: 'sqlite' });
 * metrics.operation('integrations.connection.get', 200, 0.0012);
 * metrics.refresh('invalid_grant');
 * const text = await metrics.render(); // Prometheus text format
 * ```
 */
export interface Metrics {
  /** The `Content-Type` of {@link Metrics.render}'s output. */
  readonly contentType: string;
  /** One handled request: its operation key (contract key, `system.*`, or `unknown`), HTTP status and duration. */
  operation(key: string, status: number, seconds: number): void;
  /** One token refresh attempt (on demand or by the background sweep). */
  refresh(outcome: RefreshOutcome): void;
  /** One live connection test (stored connection, unsaved credentials or a verified update). */
  connectionTest(outcome: ConnectionTestOutcome): void;
  /** One webhook delivery attempt. */
  webhookDelivery(outcome: WebhookDeliveryOutcome): void;
  /** Encryptions or decryptions with a tenant data key (`count` of them, default 1). */
  keyUse(operation: KeyOperation, kind?: KeyUseKind, count?: number): void;
  /** Every metric in the Prometheus text exposition format. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  version: string;
  engine: string;
  /** Process metrics (CPU, memory, event loop lag, GC, handles); on by default. */
  defaultMetrics?: boolean;
}

/** Request latency buckets in seconds: sub-millisecond reads up to 10-second connection tests. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Most distinct operation label values kept; anything past it is counted as `other`. The
 * HTTP surface only passes bounded values, so this is a guard against a future caller
 * passing something unbounded, not a limit anyone should reach.
 */
const MAX_OPERATIONS = 300;
const OPERATION_LABEL = /^[A-Za-z0-9_.:\-/* ]{1,160}$/;

const statusClass = (status: number): string => (status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other');

/** Creates the metrics of one Latchkey instance. */
export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new client.Registry();
  if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: registry });

  new client.Gauge({
    name: 'latchkey_build_info',
    help: 'Always 1; the labels name the running version and database engine.',
    labelNames: ['version', 'engine'],
    registers: [registry],
  }).set({ version: opts.version, engine: opts.engine }, 1);

  const requests = new client.Counter({
    name: 'latchkey_http_requests_total',
    help: 'HTTP requests handled, by operation key and status class.',
    labelNames: ['operation', 'status_class'],
    registers: [registry],
  });
  const durations = new client.Histogram({
    name: 'latchkey_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by operation key and status class.',
    labelNames: ['operation', 'status_class'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const refreshes = new client.Counter({
    name: 'latchkey_token_refresh_total',
    help: 'OAuth token refresh attempts, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const tests = new client.Counter({
    name: 'latchkey_connection_tests_total',
    help: 'Live connection tests run, by outcome (ok or the stable error code).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const webhooks = new client.Counter({
    name: 'latchkey_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const keyUses = new client.Counter({
    name: 'latchkey_key_operations_total',
    help: 'Encryptions and decryptions with tenant data keys, by operation and record kind.',
    labelNames: ['operation', 'kind'],
    registers: [registry],
  });

  // Known outcomes start at 0, so a rate() over them works before the first event.
  for (const outcome of REFRESH_OUTCOMES) refreshes.inc({ outcome }, 0);
  for (const outcome of ['ok', ...TEST_ERROR_CODES]) tests.inc({ outcome }, 0);
  for (const outcome of WEBHOOK_OUTCOMES) webhooks.inc({ outcome }, 0);

  // The request hook runs on every response: resolve each label pair to its child once.
  const children = new Map<string, { count: client.Counter.Internal; time: client.Histogram.Internal<string> }>();
  const seenOperations = new Set<string>();
  const boundedOperation = (key: string): string => {
    if (seenOperations.has(key)) return key;
    if (!OPERATION_LABEL.test(key) || seenOperations.size >= MAX_OPERATIONS) return 'other';
    seenOperations.add(key);
    return key;
  };

  return {
    contentType: registry.contentType,
    operation(key, status, seconds) {
      const id = `${key}\u0000${status}`;
      let child = children.get(id);
      if (!child) {
        const labels = { operation: boundedOperation(key), status_class: statusClass(status) };
        child = { count: requests.labels(labels), time: durations.labels(labels) };
        if (children.size < MAX_OPERATIONS * 10) children.set(id, child);
      }
      child.count.inc();
      child.time.observe(seconds);
    },
    refresh(outcome) {
      refreshes.inc({ outcome });
    },
    connectionTest(outcome) {
      tests.inc({ outcome });
    },
    webhookDelivery(outcome) {
      webhooks.inc({ outcome });
    },
    keyUse(operation, kind = 'unspecified', count = 1) {
      keyUses.inc({ operation, kind }, count);
    },
    render: () => registry.metrics(),
  };
}
