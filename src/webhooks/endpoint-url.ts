import type { OutboundGuard } from '../net/outbound-guard.js';

/**
 * Refuses, at registration, an endpoint that the dispatcher would refuse anyway: an IP
 * literal or a `localhost` name that the outbound guard does not allow (loopback and
 * private addresses unless LATCHKEY_ALLOW_PRIVATE_NETWORKS; metadata addresses always).
 * Host names are resolved and checked again on every attempt, so this is a courtesy for
 * the caller, not the enforcement. Returns the refusal's message, or null.
 *
 * @example
 * ```ts
 * refusedDestination('http://169.254.169.254/latest', guard); // 'Refusing to connect to 169.254.169.254: …'
 * ```
 */
export function refusedDestination(raw: string, guard: OutboundGuard): string | null {
  const host = new URL(raw).hostname;
  const name = host.toLowerCase().replace(/\.$/, '');
  try {
    // RFC 6761: localhost and its subdomains are always loopback.
    guard.preflight(name === 'localhost' || name.endsWith('.localhost') ? '127.0.0.1' : host);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
