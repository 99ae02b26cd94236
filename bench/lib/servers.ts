import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from './server-process.js';
import type { Engine, TargetKind } from './targets.js';

export type { Engine, TargetKind } from './targets.js';

/** A server under test running in its own child process. */
export interface ServerHandle {
  kind: TargetKind;
  engine: Engine | null;
  url: string;
  adminKey: string | null;
  pid: number;
  /** Stops the server (cleaning its data), waiting at most 15 s before killing it. */
  stop(): Promise<void>;
  /** CPU time (user and system, µs) the server process has used so far. */
  cpuUsage(): Promise<{ user: number; system: number }>;
  /** Starts V8's sampling CPU profiler inside the server process. */
  profileStart(samplingIntervalUs?: number): Promise<void>;
  /** Stops it and writes the `.cpuprofile` (JSON) to `file`. */
  profileStop(file: string): Promise<void>;
}

export interface SpawnOptions {
  /** Directory for a V8 CPU profile of the server process (`--cpu-prof`). */
  cpuProfDir?: string | undefined;
  /** Extra node flags for the child. */
  nodeFlags?: string[];
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  /** How long to wait for the server to report ready. */
  startTimeoutMs?: number;
}

const ENTRY = fileURLToPath(new URL('./server-process.ts', import.meta.url));

function forward(child: ChildProcess, label: string): void {
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => `[${label}] ${l}\n`)
      .join('');
  child.stdout?.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
  child.stderr?.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
}

/**
 * Spawns `node --import tsx bench/lib/server-process.ts` (hello-world or Latchkey) and
 * waits for it to report its URL and admin key over IPC. Its log output is forwarded to
 * this process's stderr, prefixed.
 */
export function spawnServer(kind: TargetKind, engine: Engine = 'sqlite', opts: SpawnOptions = {}): Promise<ServerHandle> {
  const execArgv = ['--import', 'tsx', ...(opts.nodeFlags ?? [])];
  if (opts.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const child = fork(ENTRY, [kind, engine], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...opts.env } });
  const label = kind === 'latchkey' ? `latchkey/${engine}` : kind;
  forward(child, label);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  return new Promise<ServerHandle>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not start within ${opts.startTimeoutMs ?? 60_000} ms`));
    }, opts.startTimeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with code ${code} before it was ready`));
    });
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${label} failed to start: ${m.message}`));
      } else if (m.type === 'ready') {
        clearTimeout(timer);
        const ask = (message: ParentMessage, expect: ChildMessage['type']) =>
          new Promise<ChildMessage>((ok, fail) => {
            const onMessage = (m: ChildMessage) => {
              if (m.type === expect) ok(m);
              else if (m.type === 'profile-error') fail(new Error(m.message));
              else return;
              child.off('message', onMessage);
            };
            child.on('message', onMessage);
            child.send(message);
          });
        resolve({
          profileStart: async (samplingIntervalUs) => {
            await ask({ type: 'profile-start', ...(samplingIntervalUs ? { samplingIntervalUs } : {}) }, 'profile-started');
          },
          profileStop: async (file) => {
            await ask({ type: 'profile-stop', file }, 'profile-written');
          },
          cpuUsage: async () => {
            const m = await ask({ type: 'cpu' }, 'cpu');
            return m.type === 'cpu' ? { user: m.user, system: m.system } : { user: 0, system: 0 };
          },
          kind,
          engine: kind === 'latchkey' ? engine : null,
          url: m.url,
          adminKey: m.adminKey,
          pid: m.pid,
          async stop() {
            if (exited) return;
            child.send({ type: 'stop' });
            const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            await exitPromise;
            clearTimeout(killer);
          },
        });
      }
    });
  });
}

/** Runs `fn` against a freshly spawned server and always stops it afterwards. */
export async function withServer<T>(kind: TargetKind, engine: Engine, opts: SpawnOptions, fn: (server: ServerHandle) => Promise<T>): Promise<T> {
  const server = await spawnServer(kind, engine, opts);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
