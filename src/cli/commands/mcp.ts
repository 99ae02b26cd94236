import { type Command, Option } from 'commander';
import { NEVER_EXPOSED_AS_TOOLS } from '../../surfaces/mcp/tool-catalog.js';
import { CliFailure, EXIT, UsageError } from '../exit-codes.js';
import { type ServerFlags, addStorageOptions, configFrom, parsePort } from '../server-options.js';

type McpFlags = ServerFlags & { apiKey?: string; http?: number };

const HELP = `
Every operation is a tool named after its key with dots as underscores
(integrations.integration.create → integrations_integration_create), described by its
contract and taking its input schema. Calls run in this process through the same pipeline
as the REST API — policy, validation, audit (surface "mcp") — under the API key given here.
A refused or failing call is a tool result with isError and the problem document.

Never exposed, because their output is a secret an agent must not hold:
${[...NEVER_EXPOSED_AS_TOOLS].map(([key, why]) => `  ${key}  (${why})`).join('\n')}

With --http, each request must carry its own key (Authorization: Bearer <key>); the
endpoint is POST /mcp on 127.0.0.1 only.`;

function onShutdown(close: () => Promise<void>, opts: { onStdinEnd: boolean }): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Over stdio, the client closing our stdin is the end of the session.
  if (opts.onStdinEnd) process.stdin.on('end', stop);
}

export function addMcpCommand(program: Command): void {
  const command = program
    .command('mcp')
    .description('Serve the operations as MCP tools over stdio (or streamable HTTP with --http), against the database directly.')
    .addOption(new Option('--api-key <key>', 'the API key whose policies the tools run under (prefer the environment variable)').env('LATCHKEY_API_KEY'))
    .addOption(new Option('--http <port>', 'serve streamable HTTP at http://127.0.0.1:<port>/mcp instead of stdio').argParser(parsePort))
    .addHelpText('after', HELP);
  addStorageOptions(command).action(async (flags: McpFlags) => {
    if (flags.http === undefined && !flags.apiKey) throw new UsageError('no API key: set LATCHKEY_API_KEY or pass --api-key');
    // Loaded here, not at start-up, so that the CLI's other commands stay fast.
    const [{ VERSION, createLatchkey }, { Authenticator }, { listenMcpHttp }, { createMcpServer }, { StdioServerTransport }] = await Promise.all([
      import('../../app.js'),
      import('../../domain/access/authenticator.js'),
      import('../../surfaces/mcp/mcp-http.js'),
      import('../../surfaces/mcp/mcp-server.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js'),
    ]);
    // stdout belongs to the MCP protocol: every log line goes to stderr.
    const config = configFrom(flags);
    const lk = await createLatchkey(config, { logDestination: process.stderr });
    // An empty database was just bootstrapped: show its random first key once (never echo a key the operator chose).
    if (lk.firstAdminKey && lk.firstAdminKey !== config.bootstrapKey) process.stderr.write(`\nFirst admin API key (shown once, store it now):\n  ${lk.firstAdminKey}\n\n`);
    const authenticator = new Authenticator(lk.services.store);

    if (flags.http !== undefined) {
      const listener = await listenMcpHttp({ registry: lk.registry, authenticator, version: VERSION, port: flags.http });
      process.stderr.write(`Latchkey MCP server (streamable HTTP) at ${listener.url}\n`);
      onShutdown(async () => {
        await listener.close();
        await lk.close();
      }, { onStdinEnd: false });
      return;
    }

    const key = flags.apiKey!;
    if (!(await authenticator.authenticate(key))) {
      await lk.close();
      throw new CliFailure('the API key is not valid for this database (unknown, revoked or expired)', EXIT.auth);
    }
    const server = createMcpServer({ registry: lk.registry, version: VERSION, principal: () => authenticator.authenticate(key) });
    onShutdown(async () => {
      await server.close();
      await lk.close();
    }, { onStdinEnd: true });
    await server.connect(new StdioServerTransport());
  });
}
