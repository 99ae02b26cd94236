import { getPriority, setPriority } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { KeyStatus } from '../../keys/key-status.js';
import type { OfflineSession } from '../../keys/offline-session.js';
import { CliFailure } from '../exit-codes.js';
import { formatTable } from '../output.js';
import { type ServerFlags, addStorageOptions, configFrom } from '../server-options.js';

interface KeyFlags extends ServerFlags {
  json?: boolean;
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a positive integer.');
  return n;
};

/** Opens the database and root key like the server does (lazily: `--help` stays fast). */
async function session(flags: KeyFlags): Promise<OfflineSession> {
  const { openOfflineSession } = await import('../../keys/offline-session.js');
  return openOfflineSession(configFrom(flags), (m) => process.stderr.write(`latchkey: ${m}\n`));
}

async function withSession<T>(flags: KeyFlags, work: (s: OfflineSession) => Promise<T>): Promise<T> {
  const s = await session(flags);
  try {
    return await work(s);
  } finally {
    await s.close();
  }
}

const print = (flags: KeyFlags, json: unknown, human: () => string) =>
  process.stdout.write(flags.json ? `${JSON.stringify(json, null, 2)}\n` : `${human()}\n`);

function statusText(status: KeyStatus): string {
  const lines = [`Root key provider: ${status.provider.kind} (${status.provider.description})`, ''];
  lines.push(formatTable(status.rootKeys.map((r) => ({ id: r.id, state: r.state, wrappedKeys: r.wrappedKeys, createdAt: r.createdAt, retiredAt: r.retiredAt }))));
  lines.push('');
  const rows = status.tenants.flatMap((t) =>
    t.versions.map((v) => ({
      tenant: t.tenantId,
      version: v.version,
      state: v.state,
      records: v.records,
      encryptions: v.encryptions,
      usage: `${(v.usage * 100).toFixed(4)}%`,
      rootKey: v.rootKeyId ?? '-',
    })),
  );
  lines.push(formatTable(rows));
  if (status.reencryption) {
    const r = status.reencryption;
    lines.push('', `Re-encryption ${r.jobId} in progress: ${r.processed}/${r.total} rows (started ${r.startedAt}); run \`latchkey keys reencrypt\` to resume it.`);
  }
  return lines.join('\n');
}

/**
 * `latchkey keys status|rotate|reencrypt|retire`: key management on the database itself
 * (SQLite data directory or PostgreSQL), online — servers sharing the database keep
 * serving. The same operations against a running server are `latchkey keys keyring get`,
 * `keys data-key rotate` and `keys root-key rotate`.
 */
export function addKeysCommands(program: Command): void {
  const keys = program.commands.find((c) => c.name() === 'keys') ?? program.command('keys');
  keys.description(
    'Key management on the database itself: status, rotate (root key), reencrypt (fresh data keys), retire; `keyring get`, `data-key rotate` and `root-key rotate` ask a running server',
  );

  const status = keys
    .command('status')
    .description('Show the root key versions and, per tenant, each data-key version with its encryption count and the records it encrypts')
    .addOption(new Option('--tenant <id>', 'one tenant only'))
    .option('--json', 'print the status as JSON');
  addStorageOptions(status).action(async (flags: KeyFlags & { tenant?: string }) => {
    const { keyStatus } = await import('../../keys/key-status.js');
    const result = await withSession(flags, (s) => keyStatus(s.store.db, s.keyring, flags.tenant ? { tenantId: flags.tenant } : {}));
    print(flags, result, () => statusText(result));
  });

  const rotate = keys
    .command('rotate')
    .description(
      'Make a new root key version current and rewrap every data key under it (fast, online). The new version is a key added to the ' +
        'configuration, else a new line appended to the key file, else a Vault Transit rotation.',
    )
    .option('--json', 'print the result as JSON');
  addStorageOptions(rotate).action(async (flags: KeyFlags) => {
    const { rotateRootKey } = await import('../../keys/root-rotation.js');
    const result = await withSession(flags, (s) => rotateRootKey(s.store.db, s.keyring, { now: new Date(), audit: s.audit }));
    print(flags, result, () =>
      [
        `Root key rotated: ${result.previousKeyId} → ${result.keyId} (${result.rewrapped} wrapped keys moved).`,
        ...(result.retiredKeyIds.length > 0
          ? [`No longer used: ${result.retiredKeyIds.join(', ')}. Remove it from every instance's configuration once they all run with ${result.keyId}.`]
          : []),
      ].join('\n'),
    );
  });

  const reencrypt = keys
    .command('reencrypt')
    .description(
      'Re-encrypt every stored secret under fresh data keys, online and in batches. Interrupted (Ctrl-C, a crash, kill -9), it resumes ' +
        'where it stopped on the next run; re-running a finished job starts a new one. Progress bar and ETA on a terminal, JSON lines otherwise.',
    )
    .addOption(new Option('--batch-size <n>', 'rows per transaction').default(1000).argParser(positive))
    .addOption(new Option('--max-rate <rows>', 'at most this many rows per second, to spare live traffic').argParser(positive))
    .addOption(new Option('--no-retire', 'keep the superseded versions (they are retired only when nothing references them anyway)'))
    .addOption(new Option('--no-nice', 'run at normal CPU priority (by default it runs at nice 10, so servers on the same host keep their share)'))
    .option('--json', 'JSON progress lines and result, even on a terminal');
  addStorageOptions(reencrypt).action(async (flags: KeyFlags & { batchSize: number; maxRate?: number; retire: boolean; nice: boolean }) => {
    // Below the server's priority: on a shared host the OS then gives live requests the CPU
    // first and re-encryption whatever is left (threads started later, the worker, inherit it).
    if (flags.nice) {
      try {
        setPriority(Math.max(getPriority(), 10));
      } catch {
        // not permitted here: run at normal priority
      }
    }
    const { reencryptAll } = await import('../../keys/reencryption.js');
    const { progressReporter } = await import('../../keys/progress-reporter.js');
    const tty = !flags.json && process.stdout.isTTY === true;
    const progress = progressReporter(process.stdout, { tty });
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const result = await withSession(flags, (s) =>
        reencryptAll(s.store, s.keyring, {
          batchSize: flags.batchSize,
          ...(flags.maxRate ? { maxRowsPerSecond: flags.maxRate } : {}),
          retire: flags.retire,
          audit: s.audit,
          signal: abort.signal,
          onProgress: (p) => progress.update(p),
        }),
      );
      progress.end();
      if (!tty) process.stdout.write(`${JSON.stringify({ event: result.completed ? 'done' : 'stopped', ...result })}\n`);
      else if (result.completed) {
        process.stdout.write(
          `Re-encrypted ${result.reencrypted} of ${result.processed} rows in ${result.seconds.toFixed(1)} s${result.resumed ? ' (resumed)' : ''}; ` +
            `retired ${result.retired.length} data-key version(s).\n`,
        );
      }
      if (!result.completed) throw new CliFailure(`stopped after ${result.processed} rows; run \`latchkey keys reencrypt\` again to resume job ${result.jobId}`, 130);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });

  const retire = keys
    .command('retire')
    .description('Retire superseded data-key versions and root key versions that nothing references any more')
    .option('--json', 'print the result as JSON');
  addStorageOptions(retire).action(async (flags: KeyFlags) => {
    const { retireUnreferencedDataKeys } = await import('../../keys/retirement.js');
    const { retireUnusedRootKeys } = await import('../../keys/root-rotation.js');
    const result = await withSession(flags, async (s) => {
      const now = new Date();
      const dataKeys = await retireUnreferencedDataKeys(s.store.db, s.keyring, now, s.audit);
      const rootKeys = await retireUnusedRootKeys(s.store.db, await s.keyring.currentRootKeyId(s.store.db), now);
      return { dataKeys, rootKeys };
    });
    print(flags, result, () =>
      result.dataKeys.length + result.rootKeys.length === 0
        ? 'Nothing to retire: every superseded version still encrypts something.'
        : [...result.dataKeys.map((d) => `retired data key ${d.tenantId} v${d.version}`), ...result.rootKeys.map((id) => `retired root key ${id}`)].join('\n'),
    );
  });
}

