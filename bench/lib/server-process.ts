/**
 * Child-process entry for a server under test. Spawned by bench/lib/servers.ts with
 * `node --import tsx bench/lib/server-process.ts <hello|latchkey|passthrough> [sqlite|postgres]` and an
 * IPC channel. Reports `{ type: 'ready', url, adminKey }`, and on `{ type: 'stop' }`
 * closes the server, removes its data (temp dir / schema) and exits normally, so that
 * `--cpu-prof` can write its profile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type Engine, type RunningTarget, type TargetKind, startHelloWorld, startLatchkey, startPassThrough } from './targets.js';

export type ChildMessage =
  | { type: 'ready'; url: string; adminKey: string | null; pid: number }
  | { type: 'error'; message: string }
  | { type: 'stopped' }
  | { type: 'profile-started' }
  | { type: 'profile-written'; file: string }
  | { type: 'profile-error'; message: string }
  | { type: 'cpu'; user: number; system: number };

export type ParentMessage = { type: 'stop' } | { type: 'cpu' } | { type: 'profile-start'; samplingIntervalUs?: number } | { type: 'profile-stop'; file: string };

/** CPU profiling of a window chosen by the parent (just the measured run, not seeding). */
let session: Session | null = null;
async function profileStart(intervalUs = 100): Promise<ChildMessage> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return { type: 'profile-started' };
}
async function profileStop(file: string): Promise<ChildMessage> {
  if (!session) return { type: 'profile-error', message: 'no profile running' };
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  session = null;
  writeFileSync(file, JSON.stringify(profile));
  return { type: 'profile-written', file };
}

const send = (message: ChildMessage) => new Promise<void>((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));

async function main(): Promise<void> {
  const kind = (process.argv[2] ?? 'hello') as TargetKind;
  const engine = (process.argv[3] ?? 'sqlite') as Engine;
  if (!process.send) throw new Error('server-process.ts must be started with an IPC channel (see bench/lib/servers.ts)');
  // Experiments patch the sources' classes: loaded only when asked for, and never with a
  // compiled build (--dist), whose classes they would not reach.
  if (kind === 'latchkey' && process.env.BENCH_EXPERIMENTS) {
    if (process.env.BENCH_DIST) throw new Error('BENCH_EXPERIMENTS patch the sources; they cannot be combined with --dist');
    const { applyExperiments, experimentsFromEnv } = await import('./experiments.js');
    const experiments = experimentsFromEnv();
    applyExperiments(experiments);
    process.stderr.write(`experiments on: ${experiments.join(', ')}\n`);
  }
  let target: RunningTarget;
  try {
    if (kind === 'passthrough') {
      const upstream = process.env.BENCH_UPSTREAM_URL;
      if (!upstream) throw new Error('the pass-through target needs BENCH_UPSTREAM_URL');
      target = await startPassThrough(upstream);
    } else target = kind === 'hello' ? await startHelloWorld() : await startLatchkey(engine);
  } catch (error) {
    await send({ type: 'error', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await target.close().catch((e: unknown) => process.stderr.write(`bench server: close failed: ${(e as Error).message}\n`));
    if (process.connected) await send({ type: 'stopped' });
    process.exit(0);
  };
  process.on('message', (m: ParentMessage) => {
    if (m?.type === 'stop') void stop();
    else if (m?.type === 'cpu') void send({ type: 'cpu', ...process.cpuUsage() });
    else if (m?.type === 'profile-start') void profileStart(m.samplingIntervalUs).then(send, (e: Error) => send({ type: 'profile-error', message: e.message }));
    else if (m?.type === 'profile-stop') void profileStop(m.file).then(send, (e: Error) => send({ type: 'profile-error', message: e.message }));
  });
  // The parent went away: clean up anyway (never leave a schema or temp dir behind).
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  await send({ type: 'ready', url: target.url, adminKey: target.adminKey, pid: process.pid });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
