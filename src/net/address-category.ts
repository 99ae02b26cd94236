import { BlockList } from 'node:net';
import { embeddedIpv4, parseIpLiteral } from './ip-address.js';

/**
 * What kind of destination an address is. Only `public` is reachable by default;
 * `PRIVATE_NETWORK_CATEGORIES` open up with `allowPrivateNetworks`; the rest (metadata,
 * unspecified, multicast, broadcast, reserved) only with an explicit address allow-list entry,
 * because no legitimate provider lives there and the metadata service is the classic SSRF prize.
 */
export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

export const PRIVATE_NETWORK_CATEGORIES: ReadonlySet<AddressCategory> = new Set(['loopback', 'private', 'link_local', 'cgnat']);

/** Cloud instance-metadata and platform endpoints, named so refusals say what was at stake. */
const METADATA = new BlockList();
for (const a of ['169.254.169.254', '169.254.170.2', '100.100.100.200', '168.63.129.16', '192.0.0.192']) METADATA.addAddress(a, 'ipv4');
METADATA.addAddress('fd00:ec2::254', 'ipv6');

type Rule = [category: AddressCategory, cidr: string];

// Order matters: the first matching rule names the category.
const RULES: Rule[] = [
  ['unspecified', '0.0.0.0/8'],
  ['loopback', '127.0.0.0/8'],
  ['private', '10.0.0.0/8'],
  ['private', '172.16.0.0/12'],
  ['private', '192.168.0.0/16'],
  ['cgnat', '100.64.0.0/10'],
  ['link_local', '169.254.0.0/16'],
  ['reserved', '192.0.0.0/24'],
  ['reserved', '192.0.2.0/24'],
  ['reserved', '192.88.99.0/24'],
  ['reserved', '198.18.0.0/15'],
  ['reserved', '198.51.100.0/24'],
  ['reserved', '203.0.113.0/24'],
  ['multicast', '224.0.0.0/4'],
  ['broadcast', '255.255.255.255/32'],
  ['reserved', '240.0.0.0/4'],
  ['unspecified', '::/128'],
  ['loopback', '::1/128'],
  ['private', '64:ff9b:1::/48'], // local-use NAT64 (RFC 8215) fronts private translators
  ['reserved', '100::/64'],
  ['reserved', '2001::/32'], // Teredo: the real destination is obfuscated inside
  ['reserved', '2001:10::/28'],
  ['reserved', '2001:20::/28'],
  ['reserved', '2001:db8::/32'],
  ['private', 'fc00::/7'],
  ['link_local', 'fe80::/10'],
  ['private', 'fec0::/10'],
  ['multicast', 'ff00::/8'],
];

const COMPILED: Array<[AddressCategory, BlockList]> = RULES.map(([category, cidr]) => {
  const list = new BlockList();
  const [net, prefix] = cidr.split('/') as [string, string];
  list.addSubnet(net, Number(prefix), net.includes(':') ? 'ipv6' : 'ipv4');
  return [category, list];
});

const GLOBAL_UNICAST_V6 = new BlockList();
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6');

function classifyIpv4(address: string): AddressCategory {
  if (METADATA.check(address, 'ipv4')) return 'metadata';
  for (const [category, list] of COMPILED) if (list.check(address, 'ipv4')) return category;
  return 'public';
}

/**
 * Classifies an IP literal. IPv6 forms that carry an IPv4 address are judged by that IPv4
 * address, and IPv6 outside global unicast (`2000::/3`) counts as reserved, so a new special
 * range cannot slip through as "public" merely because this list does not name it.
 *
 * @example
 * ```ts
 * classifyAddress('169.254.169.254');  // 'metadata'
 * classifyAddress('::ffff:10.0.0.1');  // 'private'
 * classifyAddress('93.184.216.34');    // 'public'
 * ```
 */
export function classifyAddress(address: string): AddressCategory {
  const ip = parseIpLiteral(address);
  if (!ip) throw new TypeError(`not an IP address: ${address}`);
  if (ip.family === 4) return classifyIpv4(ip.address);
  if (METADATA.check(ip.address, 'ipv6')) return 'metadata';
  const embedded = embeddedIpv4(ip.address);
  if (embedded) {
    const inner = classifyIpv4(embedded.ipv4);
    // `::8.8.8.8` is deprecated and not routed as the IPv4 host it names.
    return inner === 'public' && embedded.via === 'compatible' ? 'reserved' : inner;
  }
  for (const [category, list] of COMPILED) if (list.check(ip.address, 'ipv6')) return category;
  return GLOBAL_UNICAST_V6.check(ip.address, 'ipv6') ? 'public' : 'reserved';
}
