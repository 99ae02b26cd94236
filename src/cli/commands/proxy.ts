import { once } from 'node:events';
import { openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import { type ProxyMethod, ProxyRequest, type StreamingContract } from '../../contracts/integrations/proxy-contract.js';
import { describe as describeField, jsonSchemaOf } from '../../surfaces/docs/json-schema.js';
import type { ProxyCallOptions } from '../../surfaces/client/index.js';
import { type ClientFlags, addClientOptions, clientFrom } from '../client-options.js';
import { CliFailure, EXIT, UsageError } from '../exit-codes.js';
import { describeContract } from '../operation-commands.js';

interface ProxyFlags extends ClientFlags {
  request?: string;
  header: string[];
  data?: string;
  include?: boolean;
}

/** Headers that authenticate to Latchkey: the server never forwards them, so sending them for the provider is a mistake. */
const LATCHKEY_HEADERS = new Set(['authorization', 'x-api-key']);

function parseHeader(spec: string): [string, string] {
  const colon = spec.indexOf(':');
  const name = (colon === -1 ? '' : spec.slice(0, colon)).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`-H expects "Name: value", got a header without a valid name`);
  if (LATCHKEY_HEADERS.has(name.toLowerCase())) {
    throw new UsageError(`-H ${name}: this header authenticates to Latchkey and is never forwarded; the server injects the connection's credentials`);
  }
  return [name, spec.slice(colon + 1).trim()];
}

/** `@path` streams a file (with its size), `@-` or `-` streams standard input, anything else is sent as written. */
async function bodyOf(data: string | undefined): Promise<ProxyCallOptions['body']> {
  if (data === undefined) return undefined;
  if (data === '-' || data === '@-') return Readable.toWeb(process.stdin) as unknown as ReadableStream;
  if (data.startsWith('@') && data.length > 1) {
    try {
      return await openAsBlob(data.slice(1));
    } catch (error) {
      throw new UsageError(`cannot read --data from ${data.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? 'read failed'}`);
    }
  }
  return data;
}

/** Copies the body to stdout as it arrives; a reader that went away (`| head`) ends the copy quietly. */
async function streamToStdout(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return;
  const source = Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]);
  try {
    for await (const chunk of source) {
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    source.destroy();
  }
}

function argumentHelp(contract: StreamingContract): Record<'key' | 'id' | 'path', string> {
  const schema = jsonSchemaOf(contract.io.input, 'input');
  const of = (name: string) => describeField(schema.properties?.[name] ?? {}, schema);
  return { key: `the integration's key (${of('key')})`, id: `the connection's id (${of('id')})`, path: of('path') };
}

/**
 * `latchkey proxy <integration> <connectionId> <path>`: one call through the proxy, from
 * its streaming contract (help text, policy, methods), run with the typed client's
 * `proxy()`. The provider's body streams to stdout; Latchkey's own problems exit with
 * their class's code like every other command, and a provider's 4xx/5xx exits 9 after its
 * body was written. Standard output carries only what the provider answered: Latchkey
 * never returns the injected credentials.
 */
export function addProxyCommand(program: Command, contract: StreamingContract = ProxyRequest): void {
  const help = argumentHelp(contract);
  const command = program
    .command('proxy')
    .summary(contract.meta.title)
    .description(describeContract(contract))
    .argument('<integration>', help.key)
    .argument('<connectionId>', help.id)
    .argument('<path>', help.path)
    .addOption(
      new Option('-X, --request <method>', `HTTP method (${contract.http.methods.join(', ')}); GET, or POST with --data`).argParser((value) => {
        const method = value.toUpperCase();
        if (!(contract.http.methods as readonly string[]).includes(method)) throw new UsageError(`-X ${value}: the proxy forwards ${contract.http.methods.join(', ')}`);
        return method;
      }),
    )
    .addOption(new Option('-H, --header <header>', 'a header for the provider, "Name: value" (repeatable)').argParser((v, all: string[]) => [...all, v]).default([]))
    .addOption(new Option('-d, --data <source>', 'request body: @file or @- / - (standard input), streamed; anything else is sent as written'))
    .addOption(new Option('-i, --include', 'print the provider\'s status line and headers to stderr'));
  addClientOptions(command, { json: 'print Latchkey\'s problems as JSON on stderr' }).addHelpText(
    'after',
    `\nExamples:\n  latchkey proxy github-prod user-42 'repos/acme/app/issues?state=open'\n  latchkey proxy files acct-1 upload -X PUT -H 'Content-Type: application/pdf' --data @report.pdf\n\nExit 9 when the provider answered 4xx or 5xx (its body is still on stdout).`,
  );

  command.action(async (integration: string, connectionId: string, path: string, flags: ProxyFlags) => {
    const headers = flags.header.map(parseHeader);
    const client = clientFrom(flags);
    const body = await bodyOf(flags.data);
    const method = (flags.request ?? (body === undefined ? 'GET' : 'POST')) as ProxyMethod;
    let response: Response;
    try {
      response = await client.proxy(integration, connectionId, path, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      // The client refuses, before sending, what the server would refuse or fetch rewrite.
      if (error instanceof TypeError && !(error as { cause?: unknown }).cause && error.message !== 'fetch failed') throw new UsageError(error.message);
      throw error;
    }
    if (flags.include) {
      const lines = [`HTTP ${response.status} ${response.statusText}`.trimEnd(), ...[...response.headers].map(([name, value]) => `${name}: ${value}`)];
      process.stderr.write(`${lines.join('\n')}\n\n`);
    }
    await streamToStdout(response.body);
    if (response.status >= 400) throw new CliFailure(`the provider answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''} (relayed by Latchkey; its body is on standard output)`, EXIT.upstream);
  });
}
