import { type Command, Option } from 'commander';
import { type FetchLike, Latchkey } from '../surfaces/client/index.js';
import { UsageError } from './exit-codes.js';

/** Options of every command that talks to a running server. */
export const CLIENT_OPTION_NAMES = ['url', 'api-key', 'json', 'debug'] as const;

/** `json`: what `--json` does for this command, when it is not printing the output as JSON. */
export function addClientOptions(command: Command, help: { json?: string } = {}): Command {
  return command
    .addOption(new Option('--url <url>', 'server base URL').env('LATCHKEY_URL'))
    .addOption(new Option('--api-key <key>', 'API key (prefer the environment variable: flags land in shell history)').env('LATCHKEY_API_KEY'))
    .addOption(new Option('--json', help.json ?? 'print the raw JSON output (for scripts)'))
    .addOption(new Option('--debug', 'print each request\'s method, URL, status and request id to stderr (never bodies or headers)'));
}

export interface ClientFlags {
  url?: string;
  apiKey?: string;
  json?: boolean;
  debug?: boolean;
}

/** A `fetch` that reports what it did on stderr, without bodies or headers (they carry secrets and the key). */
function debugFetch(stderr: NodeJS.WritableStream): FetchLike {
  return async (url, init) => {
    const started = Date.now();
    stderr.write(`→ ${init.method ?? 'GET'} ${url}\n`);
    const response = await fetch(url, init);
    stderr.write(`← ${response.status} ${response.headers.get('x-request-id') ?? ''} (${Date.now() - started} ms)\n`);
    return response;
  };
}

export function clientFrom(flags: ClientFlags): Latchkey {
  if (!flags.apiKey) throw new UsageError('no API key: set LATCHKEY_API_KEY or pass --api-key');
  return new Latchkey({
    ...(flags.url ? { baseUrl: flags.url } : {}),
    apiKey: flags.apiKey,
    ...(flags.debug ? { fetch: debugFetch(process.stderr) } : {}),
  });
}
