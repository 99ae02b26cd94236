import { isIP } from 'node:net';

/** An IP literal in canonical lower-case form, without URL brackets or zone id. */
export interface IpLiteral {
  address: string;
  family: 4 | 6;
}

/**
 * Recognizes an IP literal as it may appear in a host field or URL (`[::1]`, `fe80::1%eth0`)
 * and returns it bare; `null` for host names. The zone id is dropped because it names a local
 * interface, not a different destination, and would otherwise hide a link-local address.
 *
 * @example
 * ```ts
 * parseIpLiteral('[::ffff:127.0.0.1]'); // { address: '::ffff:127.0.0.1', family: 6 }
 * parseIpLiteral('db.example.com');     // null
 * ```
 */
export function parseIpLiteral(host: string): IpLiteral | null {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const zone = h.indexOf('%');
  if (zone !== -1 && isIP(h.slice(0, zone)) === 6) h = h.slice(0, zone);
  const family = isIP(h);
  if (family === 0) return null;
  return { address: h.toLowerCase(), family: family as 4 | 6 };
}

/** The 16 bytes of a valid IPv6 literal (with or without a trailing dotted quad). */
export function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail.push(...text.slice(lastColon + 1).split('.').map(Number));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const words = (part: string | undefined): number[] => (part ? part.split(':').filter((w) => w !== '').map((w) => parseInt(w, 16)) : []);
  const left = words(head);
  const right = words(rest);
  const all = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    bytes[i * 2] = (w >> 8) & 0xff;
    bytes[i * 2 + 1] = w & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

/** How an IPv4 address is carried inside an IPv6 one. */
export type Ipv4Embedding = 'mapped' | 'compatible' | 'nat64' | '6to4';

const startsWith = (bytes: Uint8Array, prefix: number[]): boolean => prefix.every((b, i) => bytes[i] === b);
const dotted = (bytes: Uint8Array, at: number): string => Array.from(bytes.subarray(at, at + 4)).join('.');

/**
 * The IPv4 address an IPv6 address really leads to, when it has one: IPv4-mapped
 * (`::ffff:a.b.c.d`, also written `::ffff:7f00:1`), IPv4-compatible (`::a.b.c.d`), the NAT64
 * well-known prefix (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`). Attackers use these
 * spellings to slip a private IPv4 destination past a check that only looks at IPv4 ranges.
 *
 * @example
 * ```ts
 * embeddedIpv4('::ffff:7f00:1'); // { ipv4: '127.0.0.1', via: 'mapped' }
 * ```
 */
export function embeddedIpv4(address: string): { ipv4: string; via: Ipv4Embedding } | null {
  const b = ipv6Bytes(address);
  const zeros10 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  if (startsWith(b, [...zeros10, 0xff, 0xff])) return { ipv4: dotted(b, 12), via: 'mapped' };
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return { ipv4: dotted(b, 12), via: 'nat64' };
  if (startsWith(b, [0x20, 0x02])) return { ipv4: dotted(b, 2), via: '6to4' };
  // `::` and `::1` are the unspecified and loopback addresses, not compatible forms.
  if (startsWith(b, [...zeros10, 0, 0]) && (b[12]! | b[13]! | b[14]!) !== 0) return { ipv4: dotted(b, 12), via: 'compatible' };
  return null;
}
