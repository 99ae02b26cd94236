import { type Command, InvalidArgumentError, Option } from 'commander';
import { type LatchkeyConfig, loadConfig } from '../config.js';

/**
 * Flags of the commands that open the database themselves (`serve`, `init`, `migrate`,
 * `mcp`). Each mirrors an environment variable (SPEC section 8); flags win. Secret values
 * (`LATCHKEY_BOOTSTRAP_KEY`, `LATCHKEY_ROOT_KEY`, `LATCHKEY_VAULT_TOKEN`) have no flag on
 * purpose: a command line is visible to every user of the machine (`ps`). Give them in
 * the environment or, for the root key, as a file (`--root-key-file`).
 */
export interface ServerFlags {
  host?: string;
  port?: number;
  dataDir?: string;
  databaseUrl?: string;
  publicUrl?: string;
  logLevel?: string;
  rootKeyFile?: string;
  allowPrivateNetworks?: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number.');
  return n;
}

export function addStorageOptions(command: Command): Command {
  return command
    .addOption(new Option('--data-dir <dir>', 'SQLite database and generated root key (LATCHKEY_DATA_DIR, default ./data)'))
    .addOption(new Option('--database-url <url>', 'postgres://… to scale out (LATCHKEY_DATABASE_URL, default SQLite in the data dir)'))
    .addOption(new Option('--root-key-file <path>', 'file holding the base64 root key (LATCHKEY_ROOT_KEY_FILE)'))
    .addOption(new Option('--log-level <level>', 'pino level (LATCHKEY_LOG_LEVEL, default info)'));
}

export function addListenOptions(command: Command): Command {
  return command
    .addOption(new Option('--host <host>', 'address to listen on (LATCHKEY_HOST, default 127.0.0.1)'))
    .addOption(new Option('--port <port>', 'port to listen on (LATCHKEY_PORT, default 8787)').argParser(port))
    .addOption(new Option('--public-url <url>', 'base of OAuth redirect and connect URLs (LATCHKEY_PUBLIC_URL)'))
    .addOption(new Option('--allow-private-networks', 'let tests, proxy and OAuth reach private addresses (LATCHKEY_ALLOW_PRIVATE_NETWORKS)'));
}

export function configFrom(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): LatchkeyConfig {
  const overrides: Partial<LatchkeyConfig> = {};
  if (flags.host !== undefined) overrides.host = flags.host;
  if (flags.port !== undefined) overrides.port = flags.port;
  if (flags.dataDir !== undefined) overrides.dataDir = flags.dataDir;
  if (flags.databaseUrl !== undefined) overrides.databaseUrl = flags.databaseUrl;
  if (flags.publicUrl !== undefined) overrides.publicUrl = flags.publicUrl;
  if (flags.logLevel !== undefined) overrides.logLevel = flags.logLevel;
  if (flags.rootKeyFile !== undefined) overrides.rootKeyFile = flags.rootKeyFile;
  if (flags.allowPrivateNetworks !== undefined) overrides.allowPrivateNetworks = flags.allowPrivateNetworks;
  return loadConfig(env, overrides);
}

export { port as parsePort };
