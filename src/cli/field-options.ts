import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from './exit-codes.js';
import { type InputField, isSecretEntry } from './input-fields.js';
import { type SecretReader, secretSourceOf } from './secret-input.js';

/** The options one field adds to a command, by role, so their parsed values can be found again. */
export interface FieldOptions {
  field: InputField;
  /** The main option (`--display-name`, `--config`, `--secret`). */
  main: Option;
  /** `--<field>-json` for object fields. */
  json?: Option;
  /** `--<singular>-value name=value` for fields holding secrets: the explicit, shell-history-visible escape hatch. */
  plain?: Option;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number.');
  return n;
}

const singular = (flag: string): string => flag.replace(/s$/, '');

const sentence = (text: string): string => (text && !/[.;:)]$/.test(text) ? `${text};` : text);

function describe(field: InputField, extra = ''): string {
  const parts = [extra ? sentence(field.description ?? '') : (field.description ?? ''), extra, field.required ? '(required)' : ''];
  if (field.defaultValue !== undefined && typeof field.defaultValue !== 'object') parts.push(`(default: ${String(field.defaultValue)})`);
  return parts.filter(Boolean).join(' ').trim();
}

/** Adds the options of one input field to a command (see the CLI reference in `latchkey --help`). */
export function addFieldOptions(command: Command, field: InputField): FieldOptions {
  const add = (option: Option) => (command.addOption(option), option);
  const flag = field.flag;
  switch (field.kind) {
    case 'boolean': {
      const main = add(new Option(`--${flag}`, describe(field, field.description ? '' : `${field.name}: true`)));
      add(new Option(`--no-${flag}`, `${field.name}: false`));
      return { field, main };
    }
    case 'object': {
      if (field.secretEntries !== 'none') {
        const name = singular(flag);
        const main = add(new Option(`--${name} <name=source>`, describe(field, 'one entry, repeatable; values from @file, @- (stdin) or ? (hidden prompt); name:=null removes one')).argParser(collect));
        const plain = add(new Option(`--${name}-value <name=value>`, `${field.name} entry given in plain text (visible in shell history and ps; avoid)`).argParser(collect));
        const json = add(new Option(`--${flag}-json <@file|@->`, `all of ${field.name} as a JSON object read from a file or stdin`));
        return { field, main, plain, json };
      }
      const main = add(new Option(`--${flag} <name=value>`, describe(field, 'one entry, repeatable; name:=<json> for a typed value')).argParser(collect));
      const json = add(new Option(`--${flag}-json <json>`, `all of ${field.name} as a JSON object`));
      return { field, main, json };
    }
    case 'array':
      return { field, main: add(new Option(`--${flag} <item>`, describe(field, 'one item, repeatable')).argParser(collect)) };
    case 'number':
      return withNull(command, field, add(new Option(`--${flag} <n>`, describe(field)).argParser(parseNumber)));
    case 'json':
      return withNull(command, field, add(new Option(`--${flag} <json>`, describe(field, '(JSON)'))));
    case 'string': {
      const option = new Option(`--${flag} <${field.pathParam ? field.name : 'value'}>`, describe(field));
      if (field.choices) option.choices(field.choices);
      return withNull(command, field, add(option));
    }
  }
}

function withNull(command: Command, field: InputField, main: Option): FieldOptions {
  if (field.nullable) command.addOption(new Option(`--no-${field.flag}`, `${field.name}: null (clears it)`));
  return { field, main };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input; it may hold a secret, so say only that it failed.
    throw new UsageError(`${what} is not valid JSON`);
  }
}

function splitPair(pair: string, option: string): { name: string; typed: boolean; value: string } {
  const at = pair.indexOf('=');
  if (at <= 0) throw new UsageError(`${option} expects name=value`);
  const typed = pair[at - 1] === ':';
  const name = pair.slice(0, typed ? at - 1 : at);
  if (!name) throw new UsageError(`${option} expects name=value`);
  return { name, typed, value: pair.slice(at + 1) };
}

async function entryOf(field: InputField, pair: string, reader: SecretReader): Promise<[string, unknown]> {
  const option = `--${field.secretEntries === 'none' ? field.flag : singular(field.flag)}`;
  const { name, typed, value } = splitPair(pair, option);
  const label = `${field.name}.${name}`;
  if (!isSecretEntry(field, name)) return [name, typed ? parseJson(value, `${label}`) : value];
  if (typed) {
    if (value.trim() === 'null') return [name, null];
    throw new UsageError(`${label} is a secret: only ${name}:=null (remove it) may be typed; read the value with ${name}=@file, ${name}=@- or ${name}=?`);
  }
  const source = secretSourceOf(value);
  if (!source) {
    throw new UsageError(
      `${label} is a secret and is not read from the command line: use ${option} ${name}=@file, ${name}=@- (stdin) or ${name}=? (prompt), ` +
        `or ${option}-value ${name}=… if you accept it landing in your shell history`,
    );
  }
  return [name, await reader.read(source, label)];
}

async function objectValue(opts: FieldOptions, values: Record<string, unknown>, reader: SecretReader): Promise<Record<string, unknown> | undefined> {
  const { field } = opts;
  const json = opts.json ? (values[opts.json.attributeName()] as string | undefined) : undefined;
  const pairs = (values[opts.main.attributeName()] as string[] | undefined) ?? [];
  const plain = opts.plain ? ((values[opts.plain.attributeName()] as string[] | undefined) ?? []) : [];
  if (json === undefined && pairs.length === 0 && plain.length === 0) return undefined;
  let out: Record<string, unknown> = {};
  if (json !== undefined) {
    let text = json;
    if (field.secretEntries !== 'none') {
      const source = secretSourceOf(json);
      if (!source || source.from === 'prompt') throw new UsageError(`--${field.flag}-json holds secrets: pass @file or @- (stdin), not inline JSON`);
      text = await reader.read(source, field.name);
    }
    const parsed = parseJson(text, `--${field.flag}-json`);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--${field.flag}-json must be a JSON object`);
    out = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const [name, value] = await entryOf(field, pair, reader);
    out[name] = value;
  }
  for (const pair of plain) {
    const { name, value } = splitPair(pair, `--${singular(field.flag)}-value`);
    out[name] = value;
  }
  return out;
}

/** The value of one field from the parsed options, or `undefined` when it was not given. */
export async function fieldValue(opts: FieldOptions, values: Record<string, unknown>, reader: SecretReader): Promise<unknown> {
  const { field } = opts;
  if (field.kind === 'object') return objectValue(opts, values, reader);
  const raw = values[opts.main.attributeName()];
  if (raw === undefined) return undefined;
  if (raw === false && field.kind !== 'boolean') return null;
  if (field.kind === 'json') return typeof raw === 'string' ? parseJsonOrString(raw) : raw;
  if (field.kind === 'array' && field.itemKind === 'number') {
    return (raw as string[]).map((item) => {
      if (item.trim() === '' || !Number.isFinite(Number(item))) throw new UsageError(`--${field.flag} expects numbers`);
      return Number(item);
    });
  }
  return raw;
}

function parseJsonOrString(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
