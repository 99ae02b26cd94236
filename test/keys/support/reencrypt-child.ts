/**
 * A child process for the crash tests and the soak script: runs the re-encryption of
 * `latchkey keys reencrypt` against a SQLite data directory, printing each progress report
 * as a JSON line, so the parent can `kill -9` it at any point.
 *
 * Usage: reencrypt-child <dataDir> [batchSize] [maxRowsPerSecond]
 */
import { loadConfig } from '../../../src/config.js';
import { openOfflineSession } from '../../../src/keys/offline-session.js';
import { reencryptAll } from '../../../src/keys/reencryption.js';

const [dataDir, batch = '10', rate = '0'] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: reencrypt-child <dataDir> [batchSize] [maxRowsPerSecond]');
const session = await openOfflineSession(loadConfig({}, { dataDir }), () => undefined);
process.stdout.write(`${JSON.stringify({ event: 'opened' })}\n`);
try {
  const result = await reencryptAll(session.store, session.keyring, {
    batchSize: Number(batch),
    ...(Number(rate) > 0 ? { maxRowsPerSecond: Number(rate) } : {}),
    audit: session.audit,
    onProgress: (p) => process.stdout.write(`${JSON.stringify({ event: 'progress', ...p })}\n`),
  });
  process.stdout.write(`${JSON.stringify({ event: 'done', ...result })}\n`);
} finally {
  await session.close();
}
