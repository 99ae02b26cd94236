/**
 * Server process of bench/list-page.ts: Latchkey on a database the parent prepared (so the
 * parent bulk-seeds it directly while this process only serves), speaking the IPC messages
 * of bench/lib/list-page-protocol.ts.
 *
 *   node [--import tsx] bench/lib/list-page-server.mjs <appDir> <databaseUrl> <dataDir>
 *   env LIST_BENCH_ROOT_KEY=<base64>, LIST_BENCH_ADMIN_KEY=<key>
 *
 * Plain JavaScript on purpose: with `<appDir>` = a compiled `dist/` it runs under plain
 * node, so its resident memory is what a deployed server uses (the tsx loader alone adds
 * about 40 MB); with `<appDir>` = `src/` and `--import tsx` it runs the sources.
 */
import { pathToFileURL } from 'node:url';

const send = (message) => new Promise((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));

async function main() {
  const [appDir, databaseUrl, dataDir] = process.argv.slice(2);
  if (!process.send || !appDir || !databaseUrl || !dataDir) throw new Error('list-page-server.mjs needs an IPC channel, an app dir, a database URL and a data dir');
  const adminKey = process.env.LIST_BENCH_ADMIN_KEY;
  let lk;
  try {
    const { createLatchkey } = await import(pathToFileURL(`${appDir}/app.js`).href);
    const { loadConfig } = await import(pathToFileURL(`${appDir}/config.js`).href);
    const config = loadConfig(
      {},
      { host: '127.0.0.1', port: 0, dataDir, databaseUrl, rootKey: process.env.LIST_BENCH_ROOT_KEY, bootstrapKey: adminKey, logLevel: 'warn', rateLimitPerSecond: 0 },
    );
    lk = await createLatchkey(config);
  } catch (error) {
    await send({ type: 'error', message: error?.stack ?? String(error) });
    process.exit(1);
  }
  const url = await lk.app.listen({ host: '127.0.0.1', port: 0 });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Requests of the last load run may still be queued: let them finish before the database closes.
    await lk.close({ drainTimeoutMs: 20_000 }).catch((e) => process.stderr.write(`list bench server: close failed: ${e?.message}\n`));
    if (process.connected) await send({ type: 'stopped' });
    process.exit(0);
  };
  process.on('message', (m) => {
    if (m?.type === 'stop') void stop();
    else if (m?.type === 'cpu') void send({ type: 'cpu', ...process.cpuUsage() });
    else if (m?.type === 'rss') {
      // With --expose-gc, collect first: the figure is what stays resident, not garbage.
      if (m.gc && typeof globalThis.gc === 'function') globalThis.gc();
      const memory = process.memoryUsage();
      void send({ type: 'rss', rss: memory.rss, heapUsed: memory.heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 });
    }
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  await send({ type: 'ready', url, adminKey, pid: process.pid });
}

main().catch((error) => {
  process.stderr.write(`list bench server: ${error?.stack ?? String(error)}\n`);
  process.exit(1);
});
