import { Socket, type TcpSocketConnectOpts } from 'node:net';
import { DestinationRefusedError } from './destination-refused-error.js';
import type { OutboundGuard } from './outbound-guard.js';

/**
 * An unconnected TCP socket whose `connect` always goes through the guard: literals are
 * checked before connecting and names through the guarded `lookup`. Made for drivers that
 * open their own socket from a factory (`pg`'s `stream` option) or accept one (`ssh2`'s `sock`).
 * A refusal is reported as the socket's `error` event, exactly like a connection failure.
 *
 * @example
 * ```ts
 * const client = new pg.Client({ host, port, stream: () => createGuardedSocket(guard) });
 * ```
 */
export function createGuardedSocket(guard: OutboundGuard): Socket {
  const socket = new Socket();
  const connect = socket.connect.bind(socket) as (options: TcpSocketConnectOpts) => Socket;
  // Drivers call both `connect(port, host)` (pg) and `connect({ host, port })`.
  const guardedConnect = (...args: unknown[]): Socket => {
    const first = args[0];
    if (typeof first === 'object' && first !== null && 'path' in first) {
      process.nextTick(() => socket.destroy(new DestinationRefusedError(String((first as { path: unknown }).path), null, 'unix_socket')));
      return socket;
    }
    const options: TcpSocketConnectOpts =
      typeof first === 'object' && first !== null
        ? { ...(first as TcpSocketConnectOpts) }
        : { port: Number(first), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
    const host = options.host ?? 'localhost';
    try {
      guard.preflight(host);
    } catch (error) {
      process.nextTick(() => socket.destroy(error as Error));
      return socket;
    }
    return connect({ ...options, host, lookup: guard.lookup });
  };
  (socket as unknown as { connect: typeof guardedConnect }).connect = guardedConnect;
  return socket;
}
