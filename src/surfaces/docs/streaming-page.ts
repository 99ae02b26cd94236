import type { StreamingContract } from '../../contracts/integrations/proxy-contract.js';
import { streamingMethodNameOf } from '../client/proxy-request.js';
import { NEVER_EXPOSED_AS_TOOLS } from '../mcp/tool-catalog.js';
import { fieldsOf, jsonSchemaOf } from './json-schema.js';
import { code, fence, table } from './markdown.js';
import { errorRowsOf, introSections, policyAndInputSections } from './operation-page.js';

/** `GET|HEAD|… /v1/proxy/{key}/{id}/{path}`: how the index and the page name the binding. */
export const streamingBindingOf = (contract: StreamingContract): string => `${contract.http.methods.join('|')} ${contract.http.path}`;

function exampleSection(contract: StreamingContract, method: string | undefined): string {
  const path = contract.http.path.replace(/\{([^}]+)\}/g, (_, name: string) => `<${name}>`);
  const request = [`GET ${path} HTTP/1.1`, 'Authorization: Bearer <api-key>', 'Accept: <whatever the provider serves>'].join('\n');
  const args = [...contract.http.path.matchAll(/\{([^}]+)\}/g)].map((m) => JSON.stringify(`<${m[1]}>`)).join(', ');
  const client = method
    ? fence(
        'ts',
        `import { Latchkey } from 'latchkey/client';\n\nconst lk = new Latchkey(); // LATCHKEY_URL, LATCHKEY_API_KEY\n` +
          `const response = await lk.${method}(${args}); // a fetch Response, streamed\n` +
          `if (!response.ok) console.log('the provider answered', response.status);`,
      )
    : '';
  return [
    '## Example',
    'Placeholders in angle brackets stand for your values. The credentials are injected by the server; the caller never sends or sees them.',
    '### Request',
    fence('http', request),
    ...(client ? ['### With the TypeScript client', client] : []),
    '### Response',
    fence('http', `HTTP/1.1 <the provider's status>\n<the provider's headers, filtered>\n\n<the provider's body, streamed>`),
  ].join('\n\n');
}

/**
 * The reference page of a streaming operation (the proxy), generated from its declaration
 * alone, with the same sections as every other page: bytes instead of an output schema,
 * the client method that returns the raw response, and why it is not an MCP tool.
 */
export function renderStreamingPage(contract: StreamingContract): string {
  const { meta, http } = contract;
  const input = jsonSchemaOf(contract.io.input, 'input');
  const method = streamingMethodNameOf(contract);
  const params = new Set([...http.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!));
  const inputRows = fieldsOf(input).map((f) => [code(f.name), params.has(f.name) ? 'path' : 'query', code(f.type), f.required ? 'yes' : 'no', f.description]);
  const mcp = NEVER_EXPOSED_AS_TOOLS.get(meta.key);
  const sections = [
    ...introSections(meta, { kind: contract.kind, type: `${contract.kind} (streaming)`, badge: 'streaming' }, [
      ...(method ? [['Client method', code(`lk.${method}(${[...params].join(', ')}, options)`)]] : []),
      ['MCP tool', mcp ? `none: ${mcp}` : 'none: streaming operations are not MCP tools'],
    ]),
    '## HTTP binding',
    table(
      ['', ''],
      [
        ['Methods', http.methods.map(code).join(', ')],
        ['Path', code(http.path)],
        ['Bodies', 'Bytes of any media type, streamed in both directions (not JSON-checked)'],
      ],
    ),
    ...policyAndInputSections(contract.policy.policies, inputRows),
    '## Output',
    contract.io.response,
    '## Errors',
    'Latchkey\'s own problems are RFC 9457 `application/problem+json` documents with `code` and a `requestId` equal to the `X-Request-Id` response header; the provider\'s errors are relayed as they are.',
    table(['Code', 'Status', 'Title', 'Scope'], errorRowsOf(contract.io.errors)),
    exampleSection(contract, method),
  ];
  return `${sections.join('\n\n')}\n`;
}
