import type { TestTarget } from './connection-tester.js';
import { TestFailure } from './test-result.js';

/**
 * A non-secret parameter for the test: the connection's config first, then the
 * integration's, then the provider's declared default. Config validation normally fills
 * defaults already; falling back here keeps the testers usable on unsaved input too.
 *
 * @example
 * ```ts
 * configValue(target, 'port'); // 5432 when neither config sets it
 * ```
 */
export function configValue(target: TestTarget, name: string): unknown {
  const fromConnection = target.connectionConfig[name];
  if (fromConnection !== undefined && fromConnection !== null && fromConnection !== '') return fromConnection;
  const fromIntegration = target.integrationConfig[name];
  if (fromIntegration !== undefined && fromIntegration !== null && fromIntegration !== '') return fromIntegration;
  return target.provider.parameters.find((p) => p.name === name)?.defaultValue;
}

/** A string parameter; `required` turns absence into a `misconfigured` failure. */
export function configString(target: TestTarget, name: string, required: true): string;
export function configString(target: TestTarget, name: string, required?: false): string | undefined;
export function configString(target: TestTarget, name: string, required = false): string | undefined {
  const value = configValue(target, name);
  if (value === undefined) {
    if (required) throw new TestFailure('misconfigured', `${name} is not set`);
    return undefined;
  }
  if (typeof value !== 'string') throw new TestFailure('misconfigured', `${name} must be a string`);
  return value;
}

/**
 * The `host` parameter as socket APIs want it: an IPv6 literal loses its URL brackets
 * (`[::1]` → `::1`), which `net.connect` would otherwise try to resolve as a name.
 * @example
 * ```ts
 * configHost(target); // '::1' for a configured '[::1]'
 * ```
 */
export function configHost(target: TestTarget): string {
  const host = configString(target, 'host', true).trim();
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A TCP port parameter (number or numeric string), defaulting to `fallback`. */
export function configPort(target: TestTarget, name: string, fallback: number): number {
  const value = configValue(target, name) ?? fallback;
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new TestFailure('misconfigured', `${name} must be a port between 1 and 65535`);
  return port;
}

/** A credential field as a string, when set. */
export function credentialString(target: TestTarget, name: string): string | undefined {
  const value = target.credentials.fields[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Runs `onAbort` when `signal` fires (now, if it already has); returns a disposer. Testers use it
 * to destroy sockets so a timed-out test leaves nothing open.
 * @example
 * ```ts
 * const release = onAbort(signal, () => socket.destroy());
 * try { … } finally { release(); }
 * ```
 */
export function onAbort(signal: AbortSignal, onAbort: () => void): () => void {
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
