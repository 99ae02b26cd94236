import type { Command } from 'commander';
import { type ClientFlags, addClientOptions, clientFrom } from '../client-options.js';
import { formatRecord } from '../output.js';

/** `latchkey tenant create <name>`: the operator shortcut for `latchkey access tenant create --name`. */
export function addTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('Tenants (platform operators only)');
  const create = tenant
    .command('create')
    .description('Create a tenant on a running server and print its first admin key (shown once). Needs a platform admin key.')
    .argument('<name>', 'display name of the tenant');
  addClientOptions(create).action(async (name: string, flags: ClientFlags) => {
    const output = (await clientFrom(flags).call('access.tenant.create', { name })) as { tenant: unknown; adminKey: string };
    if (flags.json) return void process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    process.stdout.write(`${formatRecord(output.tenant)}\n\nAdmin API key of the new tenant (shown once, store it now):\n  ${output.adminKey}\n`);
  });
}
