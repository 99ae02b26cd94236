import { type Command, Option } from 'commander';
import type { AnyContract } from '../contracts/define.js';
import type { StreamingContract } from '../contracts/integrations/proxy-contract.js';
import type { Latchkey } from '../surfaces/client/index.js';
import { type ClientFlags, CLIENT_OPTION_NAMES, addClientOptions, clientFrom } from './client-options.js';
import { UsageError } from './exit-codes.js';
import { type FieldOptions, addFieldOptions, fieldValue } from './field-options.js';
import { type InputField, inputFieldsOf, kebab } from './input-fields.js';
import { printResult } from './output.js';
import { createSecretReader } from './secret-input.js';
import { PRINTS_SECRET_VALUES, SHOW_SECRETS_FLAG, showSecretsOption, showSecretsRequired } from './secret-output.js';

const RESERVED = new Set<string>([...CLIENT_OPTION_NAMES, 'help', 'all', 'if-match', 'idempotency-key', SHOW_SECRETS_FLAG]);

export const SECRET_HELP = `Secrets (write-only, never printed back):
  --secret name=@path        read the value from a file (one trailing newline is dropped)
  --secret name=@-           read it from standard input
  --secret name=?            ask with a hidden prompt
  --secret name:=null        remove it (on update; an omitted secret keeps its value)
  --secret-value name=value  plain value on the command line: it lands in your shell
                             history and is visible to other users in ps; avoid it
The same forms apply to --credential for connection credentials (type, expiresAt,
scopes and tokenType are not secret and may be given as plain values).`;

const isList = (contract: AnyContract, fields: InputField[]): boolean =>
  contract.http.method === 'GET' && fields.some((f) => f.name === 'cursor');

/** `access.apiKey.create` → `['access', 'api-key', 'create']`. */
export const commandPathOf = (key: string): string[] => key.split('.').map(kebab);

function groupOf(parent: Command, name: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(`${name} operations`);
}

/** A command's long help, from its contract: texts, policy, HTTP binding, key and version. */
export function describeContract(contract: AnyContract | StreamingContract): string {
  const { meta, policy, http } = contract;
  const methods = 'stream' in http ? `${http.methods.join('|')} (streamed)` : http.method;
  return [
    meta.description,
    '',
    `Goal:    ${meta.goal}`,
    `Context: ${meta.context}`,
    `Policy:  ${policy.policies.map((p) => p.key).join(', ')}`,
    `HTTP:    ${methods} ${http.path}`,
    `Contract ${meta.key} v${meta.version} (${meta.stability})`,
  ].join('\n');
}

async function collectInput(fields: FieldOptions[], positionals: Record<string, string | undefined>, values: Record<string, unknown>): Promise<Record<string, unknown>> {
  const reader = createSecretReader();
  const input: Record<string, unknown> = {};
  for (const opts of fields) {
    const { field } = opts;
    let value = await fieldValue(opts, values, reader);
    const positional = positionals[field.name];
    if (positional !== undefined) {
      if (value !== undefined && value !== positional) throw new UsageError(`<${field.name}> and --${field.flag} disagree`);
      value = positional;
    }
    if (value !== undefined) input[field.name] = value;
    else if (field.required) throw new UsageError(`missing required ${field.pathParam ? `<${field.name}> (or --${field.flag})` : `--${field.flag}`}`);
  }
  return input;
}

async function allPages(client: Latchkey, key: string, input: Record<string, unknown>): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page = (await client.call(key, { ...input, ...(cursor ? { cursor } : {}) })) as { data: unknown[]; nextCursor: string | null };
    items.push(...page.data);
    cursor = page.nextCursor && page.nextCursor !== cursor ? page.nextCursor : null;
  } while (cursor);
  return items;
}

function addOperationCommand(program: Command, contract: AnyContract): void {
  const path = commandPathOf(contract.meta.key);
  const parent = path.slice(0, -1).reduce(groupOf, program);
  const command = parent.command(path.at(-1)!).summary(contract.meta.title).description(describeContract(contract));
  // A field named like a client option (`url` of a webhook endpoint vs the server's --url)
  // takes the resource as prefix: --endpoint-url.
  const resource = path.at(-2) ?? '';
  const fields = inputFieldsOf(contract).map((f) => (RESERVED.has(f.flag) ? { ...f, flag: `${resource}-${f.flag}` } : f));
  const pathParams = fields.filter((f) => f.pathParam);
  for (const f of pathParams) command.argument(`[${f.name}]`, `${f.description ?? f.name} (or --${f.flag})`);
  for (const f of fields) if (RESERVED.has(f.flag)) throw new Error(`${contract.meta.key}: input field ${f.name} collides with the CLI option --${f.flag}`);
  const fieldOptions = fields.map((f) => addFieldOptions(command, f));
  const list = isList(contract, fields);
  if (list) command.addOption(new Option('--all', 'follow nextCursor and print every item'));
  if (contract.http.ifMatch) command.addOption(new Option('--if-match <version>', 'only if the record is still at this version (else exit 5)'));
  if (contract.http.method === 'POST' && contract.http.idempotencyKey !== false) command.addOption(new Option('--idempotency-key <key>', 'a retry with the same key replays the first response'));
  const printsSecrets = PRINTS_SECRET_VALUES.get(contract.meta.key);
  if (printsSecrets) command.addOption(showSecretsOption(printsSecrets));
  addClientOptions(command);
  if (fields.some((f) => f.secretEntries !== 'none')) command.addHelpText('after', `\n${SECRET_HELP}`);

  command.action(async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    const values = cmd.opts<Record<string, unknown> & ClientFlags & { all?: boolean; ifMatch?: string; idempotencyKey?: string; showSecrets?: boolean }>();
    if (printsSecrets && values.showSecrets !== true) throw new UsageError(showSecretsRequired(contract.meta.key, printsSecrets));
    const positionals = Object.fromEntries(pathParams.map((f, i) => [f.name, cmd.processedArgs[i] as string | undefined]));
    const input = await collectInput(fieldOptions, positionals, values);
    const client = clientFrom(values);
    if (list && values.all) {
      delete input.cursor;
      return printResult(await allPages(client, contract.meta.key, input), { json: values.json === true });
    }
    const ifMatch = values.ifMatch === undefined ? undefined : /^\d+$/.test(values.ifMatch) ? Number(values.ifMatch) : values.ifMatch;
    const output = await client.call(contract.meta.key, input, {
      ...(ifMatch !== undefined ? { ifMatch } : {}),
      ...(values.idempotencyKey ? { idempotencyKey: values.idempotencyKey } : {}),
    });
    printResult(output, { json: values.json === true });
  });
}

/**
 * One command per operation, grouped by the segments of its key
 * (`integrations.integration.create` → `latchkey integrations integration create`), with
 * flags generated from the contract's input schema. A new contract becomes a command by
 * itself.
 */
export function addOperationCommands(program: Command, contracts: readonly AnyContract[]): void {
  for (const contract of contracts) addOperationCommand(program, contract);
  const domains = new Set(contracts.map((c) => commandPathOf(c.meta.key)[0]!));
  for (const domain of program.commands.filter((c) => domains.has(c.name()))) {
    domain.description(`Operations on ${domain.commands.map((c) => c.name()).join(', ')}`);
    for (const resource of domain.commands) resource.description(`${resource.commands.map((c) => c.name()).join(', ')} (${resource.name()})`);
  }
}
