#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ALL_CONTRACTS } from '../contracts/index.js';
import { LatchkeyProblem } from '../surfaces/client/index.js';
import { addAuditCommands } from './commands/audit.js';
import { addCompletionCommand } from './commands/completion.js';
import { addInitCommands } from './commands/init.js';
import { addKeysCommands } from './commands/keys.js';
import { addMcpCommand } from './commands/mcp.js';
import { addProxyCommand } from './commands/proxy.js';
import { addServeCommand } from './commands/serve.js';
import { addTenantCommands } from './commands/tenant.js';
import { EXIT, EXIT_CODES_HELP, exitCodeOf } from './exit-codes.js';
import { SECRET_HELP, addOperationCommands } from './operation-commands.js';
import { CLI_VERSION } from './version.js';

const ROOT_HELP = `
Operations against a running server (one command per operation, from its contract):
  latchkey integrations integration create --key github-prod --provider github \\
      --display-name "GitHub" --config clientId=Iv1.abc --secret clientSecret=@secret.txt
  latchkey integrations integration list --json
  latchkey integrations connection get github-prod user-42
  latchkey access principal whoami
A provider's API through the proxy (credentials injected by the server, body to stdout):
  latchkey proxy github-prod user-42 'repos/acme/app/issues?state=open'
Server URL and key: --url / --api-key or LATCHKEY_URL / LATCHKEY_API_KEY (prefer the
environment: flags land in shell history). Human tables by default, --json for scripts.

${SECRET_HELP}

${EXIT_CODES_HELP}`;

/** The whole command tree: built-in commands plus one generated command per operation. */
export function buildProgram(): Command {
  const program = new Command('latchkey')
    .description('Latchkey: integrations, connections and credentials, kept safe, fresh and usable')
    .version(CLI_VERSION)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', ROOT_HELP);
  addServeCommand(program);
  addInitCommands(program);
  addMcpCommand(program);
  addTenantCommands(program);
  addOperationCommands(program, ALL_CONTRACTS);
  // The streaming operations, from STREAMING_CONTRACTS (one today: the proxy).
  addProxyCommand(program);
  // After the generated commands: `keys` and `audit` also hold operations against a server.
  addKeysCommands(program);
  addAuditCommands(program);
  addCompletionCommand(program);
  return program;
}

function report(error: unknown, json: boolean): void {
  if (error instanceof LatchkeyProblem) {
    if (json) return void process.stderr.write(`${JSON.stringify(error.problem)}\n`);
    const lines = [`latchkey: ${error.problem.title} (${error.status} ${error.code}${error.reason ? `, ${error.reason}` : ''}): ${error.message}`];
    for (const e of error.errors) lines.push(`  - ${e.path}: ${e.message}`);
    if (error.requestId) lines.push(`  request id: ${error.requestId}`);
    return void process.stderr.write(`${lines.join('\n')}\n`);
  }
  const code = exitCodeOf(error);
  if (code === EXIT.network) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return void process.stderr.write(`latchkey: cannot reach the server (${cause?.code ?? cause?.message ?? 'network error'}); check --url / LATCHKEY_URL\n`);
  }
  // Our own errors carry messages written to never include a secret value.
  process.stderr.write(`latchkey: ${(error as Error).message ?? String(error)}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (help, version, or a usage error).
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    report(error, argv.includes('--json'));
    return exitCodeOf(error);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code !== EXIT.ok) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`latchkey: ${(error as Error).message}\n`);
    process.exit(EXIT.failure);
  },
);
