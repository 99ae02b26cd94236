import type { AddressCategory } from './address-category.js';

const DESCRIPTION: Record<AddressCategory, string> = {
  public: 'public',
  loopback: 'a loopback address',
  private: 'a private-network address',
  link_local: 'a link-local address',
  cgnat: 'a carrier-grade NAT (shared) address',
  metadata: 'a cloud metadata address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved or special-purpose address',
};

/**
 * Thrown (or passed to a lookup callback) when the outbound guard refuses a destination.
 * `code` is stable so testers, the proxy and OAuth can report it without parsing the message.
 *
 * @example
 * ```ts
 * try { await guard.resolveAndCheck('169.254.169.254'); }
 * catch (e) { if (e instanceof DestinationRefusedError) console.log(e.category); } // 'metadata'
 * ```
 */
export class DestinationRefusedError extends Error {
  override readonly name = 'DestinationRefusedError';
  readonly code = 'destination_refused' as const;

  constructor(
    readonly host: string,
    readonly address: string | null,
    readonly category: AddressCategory | 'unix_socket',
  ) {
    super(DestinationRefusedError.describe(host, address, category));
  }

  private static describe(host: string, address: string | null, category: AddressCategory | 'unix_socket'): string {
    if (category === 'unix_socket') return 'Refusing to connect to a local socket path';
    const where = address && address !== host ? `${host} (${address})` : host;
    const remedy = category === 'loopback' || category === 'private' || category === 'link_local' || category === 'cgnat'
      ? 'allow private networks (LATCHKEY_ALLOW_PRIVATE_NETWORKS) or add it to the allow-list'
      : 'only an allow-list entry naming this address can permit it';
    return `Refusing to connect to ${where}: it is ${DESCRIPTION[category]}; ${remedy}`;
  }
}
