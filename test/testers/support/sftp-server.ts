import type { AddressInfo } from 'node:net';
import { Server, utils, type ParsedKey } from 'ssh2';

const { STATUS_CODE } = utils.sftp;

export interface SftpServerOptions {
  username: string;
  password: string;
  /** OpenSSH public keys allowed to log in. */
  authorizedKeys: string[];
  hostKey: string;
  banner?: string;
}

export interface RunningSftpServer {
  port: number;
  close(): Promise<void>;
}

function parsed(key: string): ParsedKey {
  const result = utils.parseKey(key);
  if (result instanceof Error) throw result;
  return Array.isArray(result) ? result[0]! : result;
}

/**
 * A small SFTP server on 127.0.0.1 for tests: password and public-key auth, and a directory
 * tree where `/missing` does not exist, `/private` is forbidden and everything else lists
 * three entries.
 */
export async function startSftpServer(options: SftpServerOptions): Promise<RunningSftpServer> {
  const allowed = options.authorizedKeys.map(parsed);
  const server = new Server({ hostKeys: [options.hostKey], banner: options.banner }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.username !== options.username) return ctx.reject(['password', 'publickey']);
      if (ctx.method === 'password') return ctx.password === options.password ? ctx.accept() : ctx.reject(['password', 'publickey']);
      if (ctx.method === 'publickey') {
        // Compare key material only: RSA keys are offered as rsa-sha2-256/512, not ssh-rsa.
        const key = allowed.find((k) => k.getPublicSSH().equals(ctx.key.data));
        if (!key) return ctx.reject(['password', 'publickey']);
        if (!ctx.signature) return ctx.accept(); // the "would you accept this key?" probe
        return key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject();
      }
      ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          const listed = new Set<string>();
          let next = 0;
          sftp.on('OPENDIR', (reqId, path) => {
            if (path === '/missing') return sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
            if (path === '/private') return sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED);
            sftp.handle(reqId, Buffer.from(String(next++)));
          });
          sftp.on('READDIR', (reqId, handle) => {
            const id = handle.toString();
            if (listed.has(id)) return sftp.status(reqId, STATUS_CODE.EOF);
            listed.add(id);
            const attrs = { mode: 0o100644, uid: 0, gid: 0, size: 1, atime: 0, mtime: 0 };
            sftp.name(reqId, ['a.csv', 'b.csv', 'c.csv'].map((filename) => ({ filename, longname: filename, attrs })));
          });
          sftp.on('CLOSE', (reqId) => sftp.status(reqId, STATUS_CODE.OK));
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
