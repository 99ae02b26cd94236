import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundGuard } from '../../src/net/outbound-guard.js';
import { runConnectionTest } from '../../src/testers/run-connection-test.js';
import type { TestResult } from '../../src/testers/test-result.js';
import { startSftpServer, type RunningSftpServer } from './support/sftp-server.js';
import { catalogProvider, expectNoSecrets, target } from './support/targets.js';

const USER = 'sftp-canary-user';
const PASSWORD = 'sftp-Canary-Password-0123';
const PASSPHRASE = 'rsa-canary-passphrase-987';
const ED_PASSPHRASE = 'ed-canary-passphrase-654';

// Generated once per run: no key material is checked in. Few bcrypt rounds keep it fast.
const hostKey = utils.generateKeyPairSync('ed25519');
const otherHostKey = utils.generateKeyPairSync('ed25519');
const edKey = utils.generateKeyPairSync('ed25519');
const edKeyEncrypted = utils.generateKeyPairSync('ed25519', { passphrase: ED_PASSPHRASE, cipher: 'aes256-ctr', rounds: 4 });
const rsaKeyEncrypted = utils.generateKeyPairSync('rsa', { bits: 2048, passphrase: PASSPHRASE, cipher: 'aes256-ctr', rounds: 4 });
const strangerKey = utils.generateKeyPairSync('ed25519');

const SECRETS = [PASSWORD, PASSPHRASE, ED_PASSPHRASE, edKey.private, edKeyEncrypted.private, rsaKeyEncrypted.private, strangerKey.private];

function fingerprintOf(privateKey: string): string {
  const key = utils.parseKey(privateKey);
  if (key instanceof Error) throw key;
  const blob = (Array.isArray(key) ? key[0]! : key).getPublicSSH();
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

let sftp: RunningSftpServer;
const failures: TestResult[] = [];
const guard = new OutboundGuard({ allowList: ['127.0.0.1'] });
const provider = catalogProvider('sftp');

beforeAll(async () => {
  sftp = await startSftpServer({
    username: USER,
    password: PASSWORD,
    authorizedKeys: [edKey.public, edKeyEncrypted.public, rsaKeyEncrypted.public],
    hostKey: hostKey.private,
    // A careless server that quotes a secret in its banner: the result must still not show it.
    banner: `Welcome! Your password is ${PASSWORD}`,
  });
});
afterAll(async () => {
  // No failure result may carry any key material or passphrase of any test (the banner's
  // password is only scrubbable where it is the target's own credential).
  for (const result of failures) expectNoSecrets(result, SECRETS.filter((s) => s !== PASSWORD));
  await sftp.close();
});

const byPassword = (password: string, connection: Record<string, unknown> = {}) =>
  target(provider, 'basic', { type: 'basic', fields: { username: USER, password } }, { connection: { host: '127.0.0.1', port: sftp.port, ...connection } });
const byKey = (privateKey: string, passphrase?: string, connection: Record<string, unknown> = {}) =>
  target(provider, 'key_file', { type: 'key_file', fields: { username: USER, privateKey, passphrase } }, { connection: { host: '127.0.0.1', port: sftp.port, ...connection } });
/** Runs the test and applies the canary for the target's own credentials. */
const run = async (t: ReturnType<typeof byPassword>, timeoutMs = 5000, g = guard) => {
  const result = await runConnectionTest(t, { guard: g, timeoutMs });
  const own = Object.values(t.credentials.fields).filter((v): v is string => typeof v === 'string');
  expectNoSecrets(result, own);
  if (!result.ok) failures.push(result);
  return result;
};

describe('sftp tester against an ssh2 SFTP server', () => {
  it('password → ok, lists the start directory, reports the host key and banner (scrubbed)', async () => {
    const result = await run(byPassword(PASSWORD));
    expect(result).toMatchObject({ ok: true, error: null, details: { entries: 3, startDirectory: '.', hostKeyFingerprint: fingerprintOf(hostKey.private) } });
    expect(result.details.serverIdent).toMatch(/^SSH-2\.0-/);
    expect(result.details.serverBanner).toBe('Welcome! Your password is [redacted]');
  });

  it('wrong password → auth_failed', async () => {
    const result = await run(byPassword('not-the-password'));
    expect(result.error?.code).toBe('auth_failed');
  });

  it('ed25519 key → ok', async () => {
    expect((await run(byKey(edKey.private))).ok).toBe(true);
  });

  it('RSA key with passphrase → ok', async () => {
    expect((await run(byKey(rsaKeyEncrypted.private, PASSPHRASE))).ok).toBe(true);
  });

  it('ed25519 key with passphrase → ok', async () => {
    expect((await run(byKey(edKeyEncrypted.private, ED_PASSPHRASE))).ok).toBe(true);
  });

  it('wrong or missing passphrase → auth_failed with a clear message', async () => {
    const wrong = await run(byKey(rsaKeyEncrypted.private, 'wrong-passphrase'));
    expect(wrong.error).toEqual({ code: 'auth_failed', message: 'the private key could not be decrypted: the passphrase is wrong' });
    const missing = await run(byKey(edKeyEncrypted.private));
    expect(missing.error).toEqual({ code: 'auth_failed', message: 'the private key is encrypted and no passphrase was given' });
  });

  it('a key the server does not know → auth_failed; garbage key → misconfigured', async () => {
    expect((await run(byKey(strangerKey.private))).error?.code).toBe('auth_failed');
    expect((await run(byKey('-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----'))).error?.code).toBe('misconfigured');
  });

  it('matching host key fingerprint (with or without padding) → ok', async () => {
    const fingerprint = fingerprintOf(hostKey.private);
    expect((await run(byPassword(PASSWORD, { hostKeyFingerprint: fingerprint }))).ok).toBe(true);
    expect((await run(byPassword(PASSWORD, { hostKeyFingerprint: `${fingerprint}=` }))).ok).toBe(true);
  });

  it('mismatching fingerprint → host_key_mismatch naming the presented key, before any login', async () => {
    const expected = fingerprintOf(otherHostKey.private);
    const presented = fingerprintOf(hostKey.private);
    const result = await run(byPassword(PASSWORD, { hostKeyFingerprint: expected }));
    expect(result).toMatchObject({ ok: false, error: { code: 'host_key_mismatch' }, details: { hostKeyFingerprint: presented } });
    expect(result.error?.message).toBe(`the server presented host key ${presented}, but ${expected} is expected`);
  });

  it('missing start directory → misconfigured; forbidden one → permission_denied', async () => {
    expect((await run(byPassword(PASSWORD, { startDirectory: '/missing' }))).error?.code).toBe('misconfigured');
    expect((await run(byPassword(PASSWORD, { startDirectory: '/private' }))).error?.code).toBe('permission_denied');
  });

  it('closed port → host_unreachable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    expect((await run(byPassword(PASSWORD, { port }))).error?.code).toBe('host_unreachable');
  });

  it('a bracketed IPv6 host is connected to as an address, not resolved as a name', async () => {
    const result = await run(byPassword(PASSWORD, { host: '[::1]' }), 5000, new OutboundGuard({ allowPrivateNetworks: true }));
    // The server listens on 127.0.0.1 only, so ::1 refuses (or is unroutable) — but never dns_failed.
    expect(result.error?.code).toBe('host_unreachable');
    expect((await run(byPassword(PASSWORD, { host: '[::1]' }), 5000, new OutboundGuard())).error?.code).toBe('destination_refused');
  });

  it('loopback without an allow-list → destination_refused', async () => {
    expect((await run(byPassword(PASSWORD), 5000, new OutboundGuard())).error?.code).toBe('destination_refused');
    expect((await run(byPassword(PASSWORD, { host: 'localhost' }), 5000, new OutboundGuard())).error?.code).toBe('destination_refused');
  });

  it('a server that accepts and never speaks → timeout within the limit, socket closed', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    const silent: NetServer = createServer((s) => {
      sockets.push(s);
      s.on('close', () => closed++).on('error', () => undefined).resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const result = await run(byPassword(PASSWORD, { port }), 500);
    expect(result.error?.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sockets.length).toBe(1);
    expect(closed).toBe(1); // the tester hung up; nothing is left open

    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
