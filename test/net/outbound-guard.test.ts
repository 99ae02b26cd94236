import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/net/address-category.js';
import { DestinationRefusedError } from '../../src/net/destination-refused-error.js';
import { createGuardedSocket } from '../../src/net/guarded-socket.js';
import { embeddedIpv4 } from '../../src/net/ip-address.js';
import { guardedLookup, OutboundGuard, resolveAndCheck, type HostResolver } from '../../src/net/outbound-guard.js';

// Decisions only: nothing here connects anywhere but 127.0.0.1 (the machine has no internet).
const PUBLIC = '93.184.216.34';

describe('address classification', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['fd00:ec2:0:0:0:0:0:254', 'metadata'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['169.254.10.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::127.0.0.1', 'loopback'],
    ['::8.8.8.8', 'reserved'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::169.254.169.254', 'metadata'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:0a00:0001::1', 'private'],
    [PUBLIC, 'public'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['64:ff9b::8.8.8.8', 'public'],
  ])('%s is %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it('reads the IPv4 address inside IPv6 spellings', () => {
    expect(embeddedIpv4('::ffff:7f00:1')).toEqual({ ipv4: '127.0.0.1', via: 'mapped' });
    expect(embeddedIpv4('64:ff9b::10.0.0.1')).toEqual({ ipv4: '10.0.0.1', via: 'nat64' });
    expect(embeddedIpv4('2002:c0a8:0101::')).toEqual({ ipv4: '192.168.1.1', via: '6to4' });
    expect(embeddedIpv4('::1')).toBeNull();
    expect(embeddedIpv4('2606:4700::1111')).toBeNull();
  });
});

describe('OutboundGuard decisions', () => {
  const guard = new OutboundGuard();

  it.each(['169.254.169.254', '10.0.0.1', '[::1]', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', 'fe80::1', '100.64.0.1', '0.0.0.0', '64:ff9b::a00:1'])(
    'refuses %s by default',
    async (host) => {
      expect(() => guard.preflight(host)).toThrow(DestinationRefusedError);
      await expect(guard.resolveAndCheck(host)).rejects.toMatchObject({ code: 'destination_refused' });
    },
  );

  it('allows a public literal (decision only)', async () => {
    expect(guard.check(PUBLIC)).toMatchObject({ allowed: true, by: 'public' });
    await expect(resolveAndCheck(PUBLIC, guard)).resolves.toEqual([{ address: PUBLIC, family: 4 }]);
  });

  it('refuses a name that resolves to loopback (localhost)', async () => {
    const error = await guard.resolveAndCheck('localhost').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRefusedError);
    expect(error).toMatchObject({ code: 'destination_refused', host: 'localhost', category: 'loopback' });
    expect((error as Error).message).toMatch(/localhost \((127\.0\.0\.1|::1)\).*loopback/);
  });

  it('allowPrivateNetworks opens private ranges but not metadata, multicast or unspecified', () => {
    const open = new OutboundGuard({ allowPrivateNetworks: true });
    for (const a of ['127.0.0.1', '10.0.0.1', '::1', '::ffff:127.0.0.1', 'fe80::1', '100.64.0.1']) {
      expect(open.check(a)).toMatchObject({ allowed: true, by: 'allow_private_networks' });
    }
    for (const a of ['169.254.169.254', 'fd00:ec2::254', '224.0.0.1', '0.0.0.0', '255.255.255.255']) expect(open.check(a).allowed).toBe(false);
  });

  it('an allow-list opens exactly the listed addresses, CIDRs and host names', async () => {
    const listed = new OutboundGuard().withAllowList(['10.1.0.0/16', '127.0.0.1', 'db.internal', '*.corp.example', '169.254.169.254']);
    expect(listed.check('10.1.200.3').allowed).toBe(true);
    expect(listed.check('10.2.0.1').allowed).toBe(false);
    expect(listed.check('::ffff:127.0.0.1').allowed).toBe(true);
    expect(listed.check('127.0.0.2').allowed).toBe(false);
    // Never metadata, even when named by address: allow-lists are tenant-set.
    expect(listed.check('169.254.169.254').allowed).toBe(false);
    expect(listed.check('192.168.0.9', 'db.internal').allowed).toBe(true);
    expect(listed.check('192.168.0.9', 'files.corp.example').allowed).toBe(true);
    expect(listed.check('192.168.0.9', 'corp.example.evil').allowed).toBe(false);
    // A host-name entry never unlocks metadata: what a name resolves to can change.
    expect(listed.check('100.100.100.200', 'db.internal').allowed).toBe(false);
    await expect(listed.resolveAndCheck('localhost', 4)).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('rejects malformed allow-list entries up front', () => {
    expect(() => new OutboundGuard({ allowList: ['10.0.0.0/33'] })).toThrow(/CIDR/);
    expect(() => new OutboundGuard({ allowList: ['0.0.0.0/0'] })).toThrow(/too wide/);
    expect(() => new OutboundGuard({ allowList: ['::/0'] })).toThrow(/too wide/);
    expect(() => new OutboundGuard({ allowList: ['not a host!'] })).toThrow(/allow-list entry/);
  });

  it('returns only the allowed addresses of a mixed DNS answer, and refuses an all-private one', async () => {
    const answers: Record<string, Array<{ address: string; family: number }>> = {
      'mixed.test': [{ address: '10.0.0.5', family: 4 }, { address: PUBLIC, family: 4 }, { address: '::ffff:169.254.169.254', family: 6 }],
      'rebind.test': [{ address: '169.254.169.254', family: 4 }],
    };
    const resolve: HostResolver = async (host) => answers[host] ?? [];
    const faked = new OutboundGuard({ resolve });
    await expect(faked.resolveAndCheck('mixed.test')).resolves.toEqual([{ address: PUBLIC, family: 4 }]);
    await expect(faked.resolveAndCheck('rebind.test')).rejects.toMatchObject({ code: 'destination_refused', category: 'metadata' });
    await expect(faked.resolveAndCheck('nothing.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('the lookup function follows the callback contract (single and all)', async () => {
    const lookup = guardedLookup(new OutboundGuard({ allowPrivateNetworks: true }));
    const single = await new Promise<unknown[]>((resolve) => lookup('localhost', { family: 4 }, (...args) => resolve(args)));
    expect(single).toEqual([null, '127.0.0.1', 4]);
    const all = await new Promise<unknown[]>((resolve) => lookup('localhost', { family: 4, all: true }, (...args) => resolve(args)));
    expect(all).toEqual([null, [{ address: '127.0.0.1', family: 4 }]]);
    const refused = await new Promise<unknown[]>((resolve) => guardedLookup(new OutboundGuard())('localhost', {}, (...args) => resolve(args)));
    expect(refused[0]).toBeInstanceOf(DestinationRefusedError);
  });
});

describe('enforcement on real connections to 127.0.0.1', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = (host: string, guard: OutboundGuard): Promise<string> =>
    new Promise((resolve, reject) => {
      try {
        guard.preflight(host);
      } catch (error) {
        reject(error);
        return;
      }
      const req = request({ host, port, path: '/', lookup: guardedLookup(guard) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });

  it('http.request through the guarded lookup is refused without the flag', async () => {
    await expect(get('localhost', new OutboundGuard())).rejects.toMatchObject({ code: 'destination_refused' });
    await expect(get('127.0.0.1', new OutboundGuard())).rejects.toMatchObject({ code: 'destination_refused' });
  });

  it('and succeeds with the flag or an allow-list entry', async () => {
    await expect(get('localhost', new OutboundGuard({ allowPrivateNetworks: true }))).resolves.toBe('hello');
    await expect(get('127.0.0.1', new OutboundGuard({ allowList: ['127.0.0.0/8'] }))).resolves.toBe('hello');
  });

  it('a guarded socket refuses before connecting and connects when allowed', async () => {
    const attempt = (guard: OutboundGuard, host: string) =>
      new Promise<string>((resolve) => {
        const socket = createGuardedSocket(guard);
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.connect(port, host);
      });
    await expect(attempt(new OutboundGuard(), '127.0.0.1')).resolves.toBe('destination_refused');
    await expect(attempt(new OutboundGuard(), 'localhost')).resolves.toBe('destination_refused');
    await expect(attempt(new OutboundGuard({ allowPrivateNetworks: true }), 'localhost')).resolves.toBe('connected');
  });
});
