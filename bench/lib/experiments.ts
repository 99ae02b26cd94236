import SqliteDatabase from 'better-sqlite3';
import { SqliteDriver } from 'kysely';
import { Registry } from '../../src/contracts/registry.js';

/**
 * What-if switches for the server process, set with BENCH_EXPERIMENTS=a,b (comma list).
 * They monkey-patch libraries or prototypes inside the benchmark's child process only, to
 * measure what a change in src/ would buy before anyone makes it. Never used by default.
 *
 * (The statement cache measured here first now lives in src/store/statement-cache.ts.)
 * - `exclusive-lock`: `locking_mode = EXCLUSIVE` before WAL is turned on, so reads take no
 *   shared-memory file locks (2 fcntl syscalls per statement otherwise); only this
 *   process can then open the database file.
 * - `no-output-check`: skip the zod parse of every operation's output.
 * - `fifo-mutex`: Kysely's SqliteDriver guards its one connection with a mutex whose
 *   waiters all await the same promise and re-check in a loop, so each release wakes every
 *   waiter (O(waiters) microtasks per query, O(n²) under load). This hands the connection
 *   to the next waiter in FIFO order instead (one wake-up per release).
 */
export const EXPERIMENTS = ['exclusive-lock', 'no-output-check', 'fifo-mutex'] as const;
export type Experiment = (typeof EXPERIMENTS)[number];

export function experimentsFromEnv(env = process.env): Experiment[] {
  const list = (env.BENCH_EXPERIMENTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of list) if (!(EXPERIMENTS as readonly string[]).includes(name)) throw new Error(`unknown experiment "${name}" (known: ${EXPERIMENTS.join(', ')})`);
  return list as Experiment[];
}

export function applyExperiments(list: Experiment[]): void {
  const proto = SqliteDatabase.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  if (list.includes('exclusive-lock')) {
    const pragma = proto.pragma!;
    proto.pragma = function (this: object, source: unknown, ...rest: unknown[]) {
      if (typeof source === 'string' && /^\s*journal_mode\s*=\s*wal\s*$/i.test(source)) pragma.call(this, 'locking_mode = EXCLUSIVE');
      return pragma.call(this, source, ...rest);
    };
  }
  if (list.includes('fifo-mutex')) {
    type Conn = unknown;
    interface State {
      conn: Conn | undefined;
      busy: boolean;
      queue: ((c: Conn) => void)[];
    }
    const states = new WeakMap<object, State>();
    const driverProto = SqliteDriver.prototype as unknown as { acquireConnection(): Promise<Conn>; releaseConnection(c: Conn): Promise<void> };
    const acquire = driverProto.acquireConnection;
    driverProto.acquireConnection = async function (this: object) {
      let st = states.get(this);
      if (!st) states.set(this, (st = { conn: undefined, busy: false, queue: [] }));
      if (!st.busy) {
        st.busy = true;
        // The original mutex is taken once, here, and never released: this queue replaces it.
        if (st.conn === undefined) st.conn = await acquire.call(this);
        return st.conn;
      }
      const s = st;
      return new Promise<Conn>((resolve) => s.queue.push(resolve));
    };
    driverProto.releaseConnection = async function (this: object) {
      const st = states.get(this);
      if (!st) return;
      const next = st.queue.shift();
      if (next) next(st.conn);
      else st.busy = false;
    };
  }
  if (list.includes('no-output-check')) {
    (Registry.prototype as unknown as { checkOutput: (c: unknown, o: unknown) => unknown }).checkOutput = (_c, output) => output;
  }
}
