import { BlockList } from 'node:net';
import { embeddedIpv4, parseIpLiteral } from './ip-address.js';

/**
 * A per-integration (or per-call) allow-list: IP addresses, CIDR blocks and host names.
 * Host names may start with `*.` to cover sub-domains. Entries only ever open private-network
 * ranges (loopback, private, link-local, CGNAT): the guard never lets any entry open cloud
 * metadata, multicast or reserved addresses. CIDRs wider than /8 (IPv4) or /32 (IPv6) are
 * refused, so no single entry can open everything.
 */
export class AllowList {
  private readonly addresses = new BlockList();
  private readonly exactHosts = new Set<string>();
  private readonly hostSuffixes: string[] = [];
  readonly entries: readonly string[];

  /**
   * @throws TypeError naming the first entry that is neither an address, a CIDR nor a host name.
   * @example
   * ```ts
   * const list = new AllowList(['10.1.0.0/16', '127.0.0.1', 'db.internal', '*.corp.example']);
   * list.coversAddress('10.1.2.3'); // true
   * list.coversHost('sftp.corp.example'); // true
   * ```
   */
  constructor(entries: readonly string[] = []) {
    this.entries = [...entries];
    for (const raw of entries) this.add(raw.trim());
  }

  private add(entry: string): void {
    const slash = entry.indexOf('/');
    if (slash !== -1) {
      const ip = parseIpLiteral(entry.slice(0, slash));
      const prefix = Number(entry.slice(slash + 1));
      const max = ip?.family === 4 ? 32 : 128;
      if (!ip || !/^\d{1,3}$/.test(entry.slice(slash + 1)) || prefix > max) throw new TypeError(`allow-list entry is not a valid CIDR: ${entry}`);
      if (prefix < (ip.family === 4 ? 8 : 32)) throw new TypeError(`allow-list entry is too wide (at most /8 for IPv4, /32 for IPv6): ${entry}`);
      this.addresses.addSubnet(ip.address, prefix, ip.family === 4 ? 'ipv4' : 'ipv6');
      return;
    }
    const ip = parseIpLiteral(entry);
    if (ip) {
      this.addresses.addAddress(ip.address, ip.family === 4 ? 'ipv4' : 'ipv6');
      return;
    }
    const host = normalizeHost(entry.startsWith('*.') ? entry.slice(2) : entry);
    if (!/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(host)) {
      throw new TypeError(`allow-list entry is not an address, CIDR or host name: ${entry}`);
    }
    if (entry.startsWith('*.')) this.hostSuffixes.push(`.${host}`);
    else this.exactHosts.add(host);
  }

  /** Whether an address entry covers this IP (also through its IPv4-mapped/NAT64 spellings). */
  coversAddress(address: string): boolean {
    const ip = parseIpLiteral(address);
    if (!ip) return false;
    if (this.addresses.check(ip.address, ip.family === 4 ? 'ipv4' : 'ipv6')) return true;
    const inner = ip.family === 6 ? embeddedIpv4(ip.address) : null;
    return inner !== null && this.addresses.check(inner.ipv4, 'ipv4');
  }

  /** Whether a host-name entry covers this name (exactly, or as a sub-domain of a `*.` entry). */
  coversHost(hostname: string): boolean {
    const host = normalizeHost(hostname);
    return this.exactHosts.has(host) || this.hostSuffixes.some((suffix) => host.endsWith(suffix));
  }
}

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}
