import ssh2, { type Client as SshClient, type ConnectConfig, type SFTPWrapper } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader cannot see its named exports, so take them from the default.
const { Client, utils } = ssh2;
import { createGuardedSocket } from '../net/guarded-socket.js';
import type { ConnectionTester, TestTarget } from './connection-tester.js';
import { classifyNetworkError } from './network-errors.js';
import { isSha256Fingerprint, sameFingerprint, sshFingerprint } from './ssh-fingerprint.js';
import { configHost, configPort, configString, credentialString, onAbort } from './target-config.js';
import { passed, TestFailure } from './test-result.js';

/** Password or key authentication from `basic` / `key_file` credentials. */
function authentication(target: TestTarget): Pick<ConnectConfig, 'username' | 'password' | 'privateKey' | 'passphrase'> {
  const username = credentialString(target, 'username');
  if (!username) throw new TestFailure('misconfigured', 'the credentials have no username');
  if (target.credentials.type !== 'key_file') return { username, password: credentialString(target, 'password') ?? '' };
  const privateKey = credentialString(target, 'privateKey');
  if (!privateKey) throw new TestFailure('misconfigured', 'the credentials have no private key');
  const passphrase = credentialString(target, 'passphrase');
  // Parse before connecting so a key problem is reported as such, not as a refused login.
  const parsed = utils.parseKey(privateKey, passphrase);
  if (parsed instanceof Error) {
    if (/passphrase|decrypt|integrity|bad decrypt/i.test(parsed.message)) {
      throw new TestFailure('auth_failed', passphrase ? 'the private key could not be decrypted: the passphrase is wrong' : 'the private key is encrypted and no passphrase was given');
    }
    throw new TestFailure('misconfigured', 'the private key could not be read (expected an OpenSSH, PEM or PuTTY private key)');
  }
  return { username, privateKey, passphrase };
}

interface Listing {
  entries: number;
}

function listDirectory(client: SshClient, directory: string): Promise<Listing> {
  return new Promise((resolve, reject) => {
    client.sftp((error: Error | undefined, sftp: SFTPWrapper) => {
      if (error) return reject(new TestFailure('invalid_response', `the server does not offer SFTP: ${error.message}`));
      sftp.readdir(directory, (err, list) => {
        sftp.end();
        if (!err) return resolve({ entries: list.length });
        const code = (err as { code?: unknown }).code;
        if (code === 2) return reject(new TestFailure('misconfigured', `the start directory ${directory} does not exist`));
        if (code === 3) return reject(new TestFailure('permission_denied', `the start directory ${directory} cannot be listed: permission denied`));
        reject(new TestFailure('unexpected_error', `listing ${directory} failed: ${err.message}`));
      });
    });
  });
}

/**
 * Connects over SSH (password or private key with optional passphrase; RSA, ECDSA, ed25519),
 * pins the host key to `config.hostKeyFingerprint` when set, and lists the start directory.
 * The presented fingerprint is always returned in `details`, so an operator can pin it.
 *
 * @example
 * ```ts
 * await sftpTester.test(target, { timeoutMs: 10_000, guard, signal });
 * // { ok: true, details: { entries: 3, hostKeyFingerprint: 'SHA256:…', serverIdent: 'SSH-2.0-OpenSSH_9.2' } }
 * ```
 */
export const sftpTester: ConnectionTester = {
  kind: 'sftp',
  async test(target, { timeoutMs, guard, signal }) {
    const host = configHost(target);
    const port = configPort(target, 'port', 22);
    const directory = configString(target, 'startDirectory') ?? '.';
    const expected = configString(target, 'hostKeyFingerprint');
    if (expected !== undefined && !isSha256Fingerprint(expected)) throw new TestFailure('misconfigured', 'hostKeyFingerprint must look like SHA256:<43 base64 characters>');
    const auth = authentication(target);
    guard.preflight(host);

    const details: Record<string, unknown> = {};
    let mismatch = false;
    const socket = createGuardedSocket(guard);
    const client = new Client();
    const release = onAbort(signal, () => client.destroy());
    // The first line starting with SSH- is the server's identification (RFC 4253 §4.2).
    const peekIdent = (chunk: Buffer) => {
      const line = chunk.toString('latin1').split(/\r?\n/).find((l) => l.startsWith('SSH-'));
      if (line) details.serverIdent = line.slice(0, 200);
    };
    socket.once('data', peekIdent);
    const started = performance.now();

    try {
      await new Promise<void>((resolve, reject) => {
        client.on('ready', () => resolve());
        client.on('banner', (message: string) => (details.serverBanner = message.trim().slice(0, 500)));
        client.on('error', (error: Error & { level?: string }) => reject(classifySshError(error, mismatch, details, expected)));
        client.on('close', () => reject(new TestFailure('host_unreachable', 'the server closed the connection before the SSH handshake completed')));
        socket.connect({ host, port });
        client.connect({
          sock: socket,
          ...auth,
          readyTimeout: timeoutMs,
          hostVerifier: (key: Buffer) => {
            const presented = sshFingerprint(key);
            details.hostKeyFingerprint = presented;
            mismatch = expected !== undefined && !sameFingerprint(presented, expected);
            return !mismatch;
          },
        });
      });
      const listing = await listDirectory(client, directory);
      return passed(started, { ...details, startDirectory: directory, entries: listing.entries });
    } finally {
      release();
      client.end();
      socket.destroy();
    }
  },
};

function classifySshError(error: Error & { level?: string }, mismatch: boolean, details: Record<string, unknown>, expected: string | undefined): TestFailure {
  if (mismatch) {
    return new TestFailure('host_key_mismatch', `the server presented host key ${String(details.hostKeyFingerprint)}, but ${String(expected)} is expected`, { ...details });
  }
  if (error.level === 'client-authentication') return new TestFailure('auth_failed', 'the server refused the credentials (all authentication methods failed)', { ...details });
  if (error.level === 'client-timeout') return new TestFailure('timeout', 'the SSH handshake did not complete in time', { ...details });
  const network = classifyNetworkError(error);
  if (network) return network;
  return new TestFailure('invalid_response', `the SSH handshake failed: ${error.message}`, { ...details });
}
