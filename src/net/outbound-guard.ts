import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { classifyAddress, PRIVATE_NETWORK_CATEGORIES, type AddressCategory } from './address-category.js';
import { AllowList } from './allow-list.js';
import { DestinationRefusedError } from './destination-refused-error.js';
import { parseIpLiteral } from './ip-address.js';

/** Resolves a host name to every address it has; injectable so tests can fake DNS answers. */
export type HostResolver = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

export interface OutboundGuardOptions {
  /** Let loopback, private, link-local and CGNAT destinations through (LATCHKEY_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks?: boolean;
  /** Addresses, CIDRs and host names permitted regardless of category (see {@link AllowList}). */
  allowList?: readonly string[];
  resolve?: HostResolver;
}

/** The verdict on one address, and which rule decided it. */
export interface GuardDecision {
  allowed: boolean;
  address: string;
  category: AddressCategory;
  by: 'public' | 'allow_private_networks' | 'allow_list' | 'refused';
}

const systemResolver: HostResolver = (hostname, family) => dns.lookup(hostname, { all: true, family });

/**
 * Decides whether an outbound connection may go to an address, and enforces it where the
 * connection is made: {@link OutboundGuard.lookup} is a drop-in `lookup` for `net.connect`,
 * `http.request` and `tls.connect`, so the address checked is the address connected to and a
 * DNS answer cannot change between the check and the connect (no rebinding gap).
 *
 * Name lookups are skipped by Node for IP literals, so callers that hand a host to a socket
 * must also call {@link OutboundGuard.preflight} (the `createGuardedSocket` helper does both).
 *
 * @example
 * ```ts
 * const guard = new OutboundGuard({ allowPrivateNetworks: config.allowPrivateNetworks })
 *   .withAllowList(integration.config.allowList ?? []);
 * guard.preflight(url.hostname);
 * http.request(url, { lookup: guard.lookup });
 * ```
 */
export class OutboundGuard {
  readonly allowPrivateNetworks: boolean;
  readonly allowList: AllowList;
  private readonly resolve: HostResolver;

  constructor(options: OutboundGuardOptions = {}) {
    this.allowPrivateNetworks = options.allowPrivateNetworks ?? false;
    this.allowList = new AllowList(options.allowList ?? []);
    this.resolve = options.resolve ?? systemResolver;
  }

  /** A guard with the same settings and `entries` added to the allow-list (e.g. an integration's). */
  withAllowList(entries: readonly string[]): OutboundGuard {
    return new OutboundGuard({
      allowPrivateNetworks: this.allowPrivateNetworks,
      allowList: [...this.allowList.entries, ...entries],
      resolve: this.resolve,
    });
  }

  /**
   * Judges one IP literal; `hostname` is the name it was resolved from, for host allow-list entries.
   * @example
   * ```ts
   * new OutboundGuard().check('10.0.0.1').allowed; // false
   * ```
   */
  check(address: string, hostname?: string): GuardDecision {
    const category = classifyAddress(address);
    const verdict = (allowed: boolean, by: GuardDecision['by']): GuardDecision => ({ allowed, address, category, by });
    if (category === 'public') return verdict(true, 'public');
    // Metadata, unspecified, multicast, broadcast and reserved addresses are never opened:
    // allow-lists are set by tenants, and the metadata service is the classic SSRF prize.
    if (!PRIVATE_NETWORK_CATEGORIES.has(category)) return verdict(false, 'refused');
    if (this.allowPrivateNetworks) return verdict(true, 'allow_private_networks');
    if (this.allowList.coversAddress(address)) return verdict(true, 'allow_list');
    if (hostname !== undefined && this.allowList.coversHost(hostname)) return verdict(true, 'allow_list');
    return verdict(false, 'refused');
  }

  /** Like {@link check}, but throws {@link DestinationRefusedError} when refused. */
  assertAllowed(address: string, hostname: string = address): void {
    const decision = this.check(address, hostname);
    if (!decision.allowed) throw new DestinationRefusedError(hostname, address, decision.category);
  }

  /**
   * Checks a host before a socket is opened: IP literals are judged now (Node will not call
   * `lookup` for them); names are left to {@link lookup}. Throws {@link DestinationRefusedError}.
   * @example
   * ```ts
   * guard.preflight('[::1]'); // throws: loopback
   * ```
   */
  preflight(host: string): void {
    const ip = parseIpLiteral(host);
    if (ip) this.assertAllowed(ip.address, host);
  }

  /**
   * Resolves `host` (or takes it as is when it is an IP literal), checks every address, and
   * returns the allowed ones in resolver order. Throws {@link DestinationRefusedError} when none
   * is allowed, or the resolver's own error (`ENOTFOUND` …) when the name does not resolve.
   * @example
   * ```ts
   * const [first] = await guard.resolveAndCheck('db.example.com');
   * net.connect({ host: first.address, port: 5432 });
   * ```
   */
  async resolveAndCheck(host: string, family: 0 | 4 | 6 = 0): Promise<LookupAddress[]> {
    const ip = parseIpLiteral(host);
    if (ip) {
      this.assertAllowed(ip.address, host);
      return [{ address: ip.address, family: ip.family }];
    }
    const addresses = await this.resolve(host, family);
    const decisions = addresses.map((a) => ({ entry: a, decision: this.check(a.address, host) }));
    const allowed = decisions.filter((d) => d.decision.allowed).map((d) => d.entry);
    const firstRefused = decisions.find((d) => !d.decision.allowed);
    if (allowed.length === 0) {
      if (!firstRefused) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
      throw new DestinationRefusedError(host, firstRefused.entry.address, firstRefused.decision.category);
    }
    return allowed;
  }

  /** A `lookup` option for `net`/`tls`/`http(s)`: resolves through the guard. Bound, so pass it as is. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const opts: LookupOptions = typeof options === 'object' && options !== null ? options : {};
    const family = opts.family === 4 || opts.family === 'IPv4' ? 4 : opts.family === 6 || opts.family === 'IPv6' ? 6 : 0;
    this.resolveAndCheck(hostname, family).then(
      (addresses) => {
        if (opts.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, opts.all ? [] : '', 0),
    );
  };
}

/**
 * The guard's `lookup`, for libraries that take one (`net.connect`, `http.request`, `tls.connect`).
 * @example
 * ```ts
 * http.get({ host: 'api.example.com', path: '/', lookup: guardedLookup(guard) });
 * ```
 */
export function guardedLookup(guard: OutboundGuard): LookupFunction {
  return guard.lookup;
}

/**
 * Resolves and checks a host for code that connects by IP itself; see {@link OutboundGuard.resolveAndCheck}.
 * @example
 * ```ts
 * const addresses = await resolveAndCheck('smtp.example.com', guard);
 * ```
 */
export function resolveAndCheck(host: string, guard: OutboundGuard): Promise<LookupAddress[]> {
  return guard.resolveAndCheck(host);
}
