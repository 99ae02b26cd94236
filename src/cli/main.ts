#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLatchkey } from '../app.js';
import { type LatchkeyConfig, loadConfig } from '../config.js';

const HELP = `latchkey — integrations, connections and credentials, kept safe, fresh and usable

Usage:
  latchkey serve [--host H] [--port P] [--data-dir DIR] [--database-url URL] [--public-url URL] [--log-level L]
  latchkey migrate [--data-dir DIR] [--database-url URL]
  latchkey --help

Every flag mirrors an environment variable (LATCHKEY_HOST, LATCHKEY_PORT, …).`;

function overridesFrom(values: Record<string, string | boolean | undefined>): Partial<LatchkeyConfig> {
  const out: Partial<LatchkeyConfig> = {};
  if (typeof values.host === 'string') out.host = values.host;
  if (typeof values.port === 'string') out.port = Number(values.port);
  if (typeof values['data-dir'] === 'string') out.dataDir = values['data-dir'];
  if (typeof values['database-url'] === 'string') out.databaseUrl = values['database-url'];
  if (typeof values['public-url'] === 'string') out.publicUrl = values['public-url'];
  if (typeof values['log-level'] === 'string') out.logLevel = values['log-level'];
  return out;
}

async function serve(config: LatchkeyConfig): Promise<void> {
  const lk = await createLatchkey(config);
  const address = await lk.app.listen({ host: config.host, port: config.port });
  const shown = config.publicUrl || address;
  process.stdout.write(`\nLatchkey ${address === shown ? 'is running at' : `listens on ${address}, public URL`} ${shown}\n`);
  process.stdout.write(`  API reference: ${shown}/docs\n  OpenAPI:       ${shown}/openapi.json\n`);
  if (lk.firstAdminKey) {
    process.stdout.write(`\nFirst admin API key (shown once, store it now):\n  ${lk.firstAdminKey}\n\n`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lk.logger.info({ signal }, 'shutting down: draining in-flight requests');
    await lk.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'public-url': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const config = loadConfig(process.env, overridesFrom(values));
  switch (command) {
    case 'serve':
      return serve(config);
    case 'migrate': {
      const lk = await createLatchkey(config);
      await lk.close();
      process.stdout.write('migrations are up to date\n');
      return;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}\n`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`latchkey: ${(error as Error).message}\n`);
  process.exit(1);
});
