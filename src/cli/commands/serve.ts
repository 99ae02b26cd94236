import type { Command } from 'commander';
import { type ServerFlags, addListenOptions, addStorageOptions, configFrom } from '../server-options.js';

/** The first admin key block; test/cli/serve.test.ts and operators' scripts parse it. */
export const firstAdminKeyNotice = (key: string): string => `\nFirst admin API key (shown once, store it now):\n  ${key}\n\n`;

export function addServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('Start the HTTP server (REST API, OpenAPI, reference docs). On an empty database, creates the default tenant and prints its first admin key once.');
  addStorageOptions(addListenOptions(command));
  command.action(async (flags: ServerFlags) => {
    const config = configFrom(flags);
    const { createLatchkey } = await import('../../app.js');
    const lk = await createLatchkey(config);
    const address = await lk.app.listen({ host: config.host, port: config.port });
    const shown = config.publicUrl || address;
    process.stdout.write(`\nLatchkey ${address === shown ? 'is running at' : `listens on ${address}, public URL`} ${shown}\n`);
    process.stdout.write(`  Studio:        ${shown}/studio\n  API reference: ${shown}/docs\n  OpenAPI:       ${shown}/openapi.json\n`);
    if (lk.firstAdminKey) process.stdout.write(firstAdminKeyNotice(lk.firstAdminKey));
    let stopping = false;
    // SIGTERM/SIGINT: /readyz turns 503, the listener closes (new connections are refused),
    // in-flight requests finish within LATCHKEY_SHUTDOWN_TIMEOUT_MS, then the database closes.
    // A second signal while draining gives up on the drain.
    const stop = async (signal: string) => {
      if (stopping) {
        lk.logger.warn({ signal }, 'second signal while draining: exiting now');
        process.exit(1);
      }
      stopping = true;
      lk.logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining in-flight requests');
      try {
        await lk.close();
        lk.logger.info('shut down cleanly');
        process.exit(0);
      } catch (error) {
        lk.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });
}
