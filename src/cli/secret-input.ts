import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { UsageError } from './exit-codes.js';

/**
 * Where a secret value comes from on the command line. Secrets never come from a plain
 * flag value (it would land in shell history and `ps` output) unless the user insists
 * with `--secret-value` / `--credential-value`.
 *
 * - `name=@path`  read the file (one trailing newline is dropped)
 * - `name=@-`     read standard input (for at most one secret per call)
 * - `name=?`      ask with a hidden prompt on the terminal
 */
export type SecretSource = { from: 'file'; path: string } | { from: 'stdin' } | { from: 'prompt' };

export function secretSourceOf(spec: string): SecretSource | null {
  if (spec === '@-') return { from: 'stdin' };
  if (spec === '?') return { from: 'prompt' };
  // The shell does not expand `~` after `name=@`, so do it here.
  if (spec.startsWith('@~/')) return { from: 'file', path: `${homedir()}${spec.slice(2)}` };
  if (spec.startsWith('@') && spec.length > 1) return { from: 'file', path: spec.slice(1) };
  return null;
}

const dropTrailingNewline = (text: string): string => text.replace(/\r?\n$/, '');

export interface SecretReader {
  /** Resolves one source; `label` (e.g. `secrets.clientSecret`) names the field in messages, never the value. */
  read(source: SecretSource, label: string): Promise<string>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(label: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  if (!input.isTTY) throw new UsageError(`cannot prompt for ${label}: standard input is not a terminal (use =@file or =@- instead)`);
  return new Promise((resolve, reject) => {
    let value = '';
    output.write(`${label}: `);
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError(`prompt for ${label} cancelled`));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

export function createSecretReader(stdin: NodeJS.ReadStream = process.stdin, stderr: NodeJS.WriteStream = process.stderr): SecretReader {
  let stdinUsedFor: string | null = null;
  return {
    async read(source, label) {
      switch (source.from) {
        case 'file':
          try {
            return dropTrailingNewline(readFileSync(source.path, 'utf8'));
          } catch (error) {
            throw new UsageError(`cannot read ${label} from ${source.path}: ${(error as NodeJS.ErrnoException).code ?? 'read failed'}`);
          }
        case 'stdin':
          if (stdinUsedFor) throw new UsageError(`${label} and ${stdinUsedFor} both read standard input (=@-); only one secret can`);
          stdinUsedFor = label;
          if (stdin.isTTY) return promptHidden(label, stdin, stderr);
          return dropTrailingNewline(await readAll(stdin));
        case 'prompt':
          return promptHidden(label, stdin, stderr);
      }
    },
  };
}
