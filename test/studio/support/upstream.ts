import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local API the generic `http` provider is pointed at: answers 200 to Basic credentials
 * equal to the accepted user and password, 401 otherwise, and never echoes what it got.
 */
export interface Upstream {
  url: string;
  /** The username:password pair it accepts now. */
  accept(username: string, password: string): void;
  /** Every Authorization header it received, decoded (`user:password`), in order. */
  seen: string[];
  close(): Promise<void>;
}

export function startUpstream(): Promise<Upstream> {
  let accepted = '';
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const header = req.headers.authorization ?? '';
    const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    seen.push(decoded);
    const ok = decoded !== '' && decoded === accepted;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        accept: (username, password) => {
          accepted = `${username}:${password}`;
        },
        seen,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}
