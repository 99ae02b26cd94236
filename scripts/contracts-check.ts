/**
 * `npm run contracts:check`: compares the registry and the streaming operations with the
 * committed snapshot (contracts/snapshot.json) and exits 1 when a stable contract changed
 * in a breaking way without a major version bump (what counts as breaking: see
 * src/surfaces/governance/compare.ts; e.g. an input field no longer read from its header,
 * or a POST that stops honouring Idempotency-Key). Changes of other contracts are reported, not refused.
 * `npm run contracts:snapshot` (`--write`) records the current registry as the snapshot.
 * `--snapshot <file>` reads another snapshot (for tests).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_CONTRACTS, STREAMING_CONTRACTS } from '../src/contracts/index.js';
import { compareSnapshots, formatReport, parseSnapshot, serializeSnapshot, snapshotOf } from '../src/surfaces/governance/index.js';

export const SNAPSHOT_FILE = resolve(fileURLToPath(new URL('..', import.meta.url)), 'contracts/snapshot.json');

function main(args: string[]): number {
  const at = args.indexOf('--snapshot');
  const file = at >= 0 && args[at + 1] ? resolve(args[at + 1]!) : SNAPSHOT_FILE;
  const current = snapshotOf(ALL_CONTRACTS, STREAMING_CONTRACTS);
  if (args.includes('--write')) {
    const previous = existsSync(file) ? parseSnapshot(readFileSync(file, 'utf8')) : { contracts: {} };
    const report = compareSnapshots(previous, current);
    console.log(formatReport(report, previous, current));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, serializeSnapshot(current));
    console.log(`\nwrote ${Object.keys(current.contracts).length} contracts and ${Object.keys(current.streaming ?? {}).length} streaming operation(s) to ${file}`);
    if (report.violations.length > 0) console.log('note: the snapshot now accepts the breaking changes above; make sure the versions say so');
    return 0;
  }
  if (!existsSync(file)) {
    console.error(`no contract snapshot at ${file}: run \`npm run contracts:snapshot\` and commit it`);
    return 1;
  }
  const previous = parseSnapshot(readFileSync(file, 'utf8'));
  const report = compareSnapshots(previous, current);
  const text = formatReport(report, previous, current);
  if (report.violations.length > 0) {
    console.error(text);
    console.error('\ncontracts:check failed: bump the major version of each contract above, or make the change compatible.');
    return 1;
  }
  console.log(text);
  const pending = report.changes.some((c) => c.severity !== 'info') || serializeSnapshot(previous) !== serializeSnapshot(current);
  console.log(pending ? '\ncontracts:check passed; run `npm run contracts:snapshot` to record these changes.' : '\ncontracts:check passed.');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
