import type { AnyContract } from '../../contracts/define.js';
import { ROLES, grantsOf } from '../../contracts/policies.js';
import { type LatchkeyErrorCode, statusOf, titleOf } from '../../errors.js';
import { methodNameOf } from '../client/operations.js';
import { exampleOf } from './examples.js';
import { type JsonSchema, fieldsOf, jsonSchemaOf } from './json-schema.js';
import { code, fence, table } from './markdown.js';

/** Problems any authenticated operation can answer with (as in the OpenAPI document). */
const COMMON_ERRORS: LatchkeyErrorCode[] = ['bad_request', 'unauthenticated', 'forbidden', 'validation_failed', 'rate_limited', 'internal'];
const BODY_ERRORS: LatchkeyErrorCode[] = ['payload_too_large', 'unsupported_media_type'];

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content' };

export const GENERATED_NOTICE = '<!-- Generated from the contracts by `npm run docs`. Edit src/contracts/, not this file. -->';

const paramsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
const hasBody = (c: AnyContract) => c.http.method !== 'GET' && c.http.method !== 'DELETE';
const json = (value: unknown) => JSON.stringify(value, null, 2);

/** Where the server reads each input field from: `path`, `query`, a header or `body`. */
export function locationOf(contract: AnyContract, field: string): 'path' | 'query' | 'body' | `header ${string}` {
  if ([contract.http.path, ...(contract.http.aliases ?? [])].some((p) => paramsOf(p).includes(field))) return 'path';
  if ((contract.http.query ?? []).includes(field)) return 'query';
  const header = contract.http.headers?.[field];
  if (header !== undefined) return `header ${header}`;
  return 'body';
}

/** The roles whose keys hold a policy, in words, for a policy table. */
export function rolesHolding(policyKey: string): string {
  const everywhere = ROLES.filter((role) => grantsOf(role, [], false).has(policyKey as never));
  const platformOnly = ROLES.filter((role) => !everywhere.includes(role) && grantsOf(role, [], true).has(policyKey as never));
  const names = [...everywhere, ...platformOnly.map((role) => `${role} (platform tenant only)`)];
  return names.length > 0 ? names.join(', ') : 'none; grant it explicitly to a key';
}

/**
 * The opening of every operation page: notice, title, badges, description, the facts table
 * (with `extraRows` for the surfaces) and the goal and context.
 */
export function introSections(meta: AnyContract['meta'], how: { kind: string; type: string; badge?: string }, extraRows: string[][]): string[] {
  return [
    GENERATED_NOTICE,
    `# ${meta.title}`,
    `${code(meta.key)} · ${how.kind} · v${meta.version} · ${meta.stability}${how.badge ? ` · ${how.badge}` : ''}`,
    ...(meta.stability === 'deprecated' ? ['> **Deprecated.** This operation will be removed in a future major version.'] : []),
    meta.description,
    table(
      ['', ''],
      [
        ['Key', code(meta.key)],
        ['Version', meta.version],
        ['Type', how.type],
        ['Stability', meta.stability],
        ['Owners', meta.owners.join(', ')],
        ['Tags', meta.tags.map(code).join(', ')],
        ...extraRows,
      ],
    ),
    `**Goal.** ${meta.goal}`,
    `**Context.** ${meta.context}`,
  ];
}

/** The Policy and Input sections, the same for every kind of operation page. */
export function policyAndInputSections(policies: ReadonlyArray<{ key: string; version: string }>, inputRows: string[][]): string[] {
  return [
    '## Policy',
    `Requires an API key (${code('Authorization: Bearer <key>')} or ${code('X-API-Key: <key>')}) holding every policy below. Authorization is deny-by-default.`,
    table(
      ['Policy', 'Version', 'Held by roles'],
      policies.map((p) => [code(p.key), p.version, rolesHolding(p.key)]),
    ),
    '## Input',
    inputRows.length ? table(['Field', 'In', 'Type', 'Required', 'Description'], inputRows) : 'This operation takes no input.',
  ];
}

function errorRows(contract: AnyContract): string[][] {
  return errorRowsOf(contract.io.errors, hasBody(contract) ? BODY_ERRORS : []);
}

/** Rows of an errors table: the declared codes, `extra` ones and those of every operation, by status. */
export function errorRowsOf(errors: readonly LatchkeyErrorCode[], extra: readonly LatchkeyErrorCode[] = []): string[][] {
  const declared = new Set(errors);
  const all = new Set<LatchkeyErrorCode>([...errors, ...COMMON_ERRORS, ...extra]);
  return [...all]
    .sort((a, b) => statusOf(a) - statusOf(b) || a.localeCompare(b))
    .map((c) => [code(c), String(statusOf(c)), titleOf(c), declared.has(c) ? 'declared by this operation' : 'any operation']);
}

function exampleSection(contract: AnyContract, input: JsonSchema, output: JsonSchema): string {
  const example = exampleOf(input, 'input') as Record<string, unknown>;
  const path = contract.http.path.replace(/\{([^}]+)\}/g, (_, name: string) => String(example[name] ?? `<${name}>`));
  const body = Object.fromEntries(Object.entries(example).filter(([field]) => locationOf(contract, field) === 'body'));
  const headers = ['Authorization: Bearer <api-key>'];
  for (const [field, header] of Object.entries(contract.http.headers ?? {})) headers.push(`${header}: <${field}>`);
  if (contract.io.errors.includes('precondition_failed')) headers.push('If-Match: "<version>"');
  if (contract.http.method === 'POST' && contract.http.idempotencyKey !== false) headers.push('Idempotency-Key: <unique-request-id>');
  if (hasBody(contract)) headers.push('Content-Type: application/json');
  const request = [`${contract.http.method} ${path} HTTP/1.1`, ...headers, ...(hasBody(contract) ? ['', json(body)] : [])].join('\n');

  const result = exampleOf(output, 'output');
  const status = contract.http.successStatus ?? 200;
  const responseHeaders = ['Content-Type: application/json'];
  if (typeof (result as { version?: unknown })?.version === 'number') responseHeaders.push(`ETag: "${(result as { version: number }).version}"`);
  const response = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}`.trimEnd(), ...responseHeaders, '', json(result)].join('\n');

  const method = methodNameOf(contract);
  const client = method
    ? fence('ts', `import { Latchkey } from 'latchkey/client';\n\nconst lk = new Latchkey(); // LATCHKEY_URL, LATCHKEY_API_KEY\nconst result = await lk.${method}(${json(example)});`)
    : '';
  return [
    '## Example',
    'Placeholders in angle brackets stand for your values; write-only secrets are never part of a response.',
    '### Request',
    fence('http', request),
    ...(client ? ['### With the TypeScript client', client] : []),
    '### Response',
    fence('http', response),
  ].join('\n\n');
}

/** The Markdown reference page of one operation, generated from its contract alone. */
export function renderOperationPage(contract: AnyContract): string {
  const { meta, http } = contract;
  const input = jsonSchemaOf(contract.io.input, 'input');
  const output = jsonSchemaOf(contract.io.output, 'output');
  const status = http.successStatus ?? 200;
  const headers = [
    ...(contract.io.errors.includes('precondition_failed') ? [`${code('If-Match')} (a record version as ETag, e.g. ${code('"3"')})`] : []),
    ...(http.method === 'POST' && http.idempotencyKey !== false ? [`${code('Idempotency-Key')} (a retry replays the first response)`] : []),
    ...Object.entries(http.headers ?? {}).map(([field, header]) => `${code(header)} (the ${code(field)} input field)`),
  ];
  const inputRows = fieldsOf(input).map((f) => [code(f.name), locationOf(contract, f.name.split(/[.[]/)[0]!), code(f.type), f.required ? 'yes' : 'no', f.description]);
  const outputRows = fieldsOf(output).map((f) => [code(f.name), code(f.type), f.required ? 'yes' : 'no', f.description]);
  const sections = [
    ...introSections(meta, { kind: contract.kind, type: contract.kind }, methodNameOf(contract) ? [['Client method', code(`lk.${methodNameOf(contract)}(input)`)]] : []),
    '## HTTP binding',
    table(
      ['', ''],
      [
        ['Method', code(http.method)],
        ['Path', code(http.path)],
        ...(http.aliases?.length ? [['Aliases', http.aliases.map(code).join(', ')]] : []),
        ...(http.query?.length ? [['Query parameters', http.query.map(code).join(', ')]] : []),
        ['Success status', `${status} ${STATUS_TEXT[status] ?? ''}`.trimEnd()],
        ...(headers.length ? [['Request headers', headers.join('; ')]] : []),
      ],
    ),
    ...policyAndInputSections(contract.policy.policies, inputRows),
    '## Output',
    `${status} ${STATUS_TEXT[status] ?? ''}`.trimEnd() + ', `application/json`:',
    outputRows.length ? table(['Field', 'Type', 'Always present', 'Description'], outputRows) : 'An empty object.',
    '## Errors',
    'Problems are RFC 9457 `application/problem+json` documents with `code`, `requestId` and, for 422, `errors: [{ path, message }]`.',
    table(['Code', 'Status', 'Title', 'Scope'], errorRows(contract)),
    exampleSection(contract, input, output),
  ];
  return `${sections.join('\n\n')}\n`;
}
