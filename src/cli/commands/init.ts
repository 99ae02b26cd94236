import { join } from 'node:path';
import type { Command } from 'commander';
import type { LatchkeyConfig } from '../../config.js';
import { type ServerFlags, addStorageOptions, configFrom } from '../server-options.js';
import { firstAdminKeyNotice } from './serve.js';

/** Opens (creating if needed) the database, runs migrations and the first-start bootstrap, and closes again. */
async function prepare(config: LatchkeyConfig): Promise<string | null> {
  // Logs go to stderr so that stdout holds only the result (`init --json` is parsed by scripts).
  const { createLatchkey } = await import('../../app.js');
  const lk = await createLatchkey(config, { logDestination: process.stderr });
  const adminKey = lk.firstAdminKey;
  await lk.close();
  return adminKey;
}

const rootKeyFileOf = (config: LatchkeyConfig): string | null => (config.rootKey ? null : (config.rootKeyFile ?? join(config.dataDir, 'root.key')));

export function addInitCommands(program: Command): void {
  const init = program
    .command('init')
    .description('Create the data directory, the root key and the first admin key without starting the server. Does nothing on an initialised database.')
    .option('--json', 'print {dataDir, databaseUrl, rootKeyFile, adminKey, created} as JSON');
  addStorageOptions(init).action(async (flags: ServerFlags & { json?: boolean }) => {
    const config = configFrom(flags);
    const adminKey = await prepare(config);
    const rootKeyFile = rootKeyFileOf(config);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, rootKeyFile, adminKey, created: adminKey !== null }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`Latchkey data directory: ${config.dataDir}\n`);
    if (rootKeyFile) process.stdout.write(`Root key file:           ${rootKeyFile} (keep it apart from backups of the database)\n`);
    if (adminKey) process.stdout.write(firstAdminKeyNotice(adminKey));
    else process.stdout.write('Already initialised: the first admin key was shown when the database was created.\n');
  });

  const migrate = program.command('migrate').description('Run database migrations forward (also creates the first admin key on an empty database, printed once).');
  addStorageOptions(migrate).action(async (flags: ServerFlags) => {
    const adminKey = await prepare(configFrom(flags));
    process.stdout.write('migrations are up to date\n');
    if (adminKey) process.stdout.write(firstAdminKeyNotice(adminKey));
  });
}
