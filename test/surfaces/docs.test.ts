/**
 * Reference docs: the committed docs/reference/ is exactly what the contracts generate,
 * a deliberate contract change shows up as drift, and no page carries a secret value.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AnyContract } from '../../src/contracts/define.js';
import { ALL_CONTRACTS, STREAMING_CONTRACTS } from '../../src/contracts/index.js';
import { CreateIntegration, GetIntegration } from '../../src/contracts/integrations/integration-contracts.js';
import { ProxyRequest } from '../../src/contracts/integrations/proxy-contract.js';
import { exampleOf, fieldsOf, hasDrift, jsonSchemaOf, referenceDrift, renderOperationPage, renderReference, renderStreamingPage, typeOf } from '../../src/surfaces/docs/index.js';

const DIR = new URL('../../docs/reference/', import.meta.url);

function committed(): Map<string, string> {
  const names = readdirSync(DIR).filter((n) => n.endsWith('.md')).sort();
  return new Map(names.map((n) => [n, readFileSync(new URL(n, DIR), 'utf8')]));
}

const replaced = (list: readonly AnyContract[], next: AnyContract) => list.map((c) => (c.meta.key === next.meta.key ? next : c));

/** What `npm run docs` generates: the registry's pages, the streaming ones and the index. */
const generate = (contracts: readonly AnyContract[] = ALL_CONTRACTS, streaming = STREAMING_CONTRACTS) => renderReference(contracts, streaming);

/** Every string leaf of a JSON value. */
const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(strings) : value && typeof value === 'object' ? Object.values(value).flatMap(strings) : [];

/** The JSON values of a page's examples: HTTP bodies and the client call's argument. */
function jsonBlocks(page: string): unknown[] {
  const fences = [...page.split('## Example')[1]!.matchAll(/```(\w+)\n([\s\S]*?)\n```/g)];
  return fences.flatMap(([, lang, body]) => {
    if (lang === 'http') {
      const json = body!.split('\n\n')[1];
      return json ? [JSON.parse(json) as unknown] : [];
    }
    const call = /await lk\.\w+\(([\s\S]*)\);$/.exec(body!);
    return call ? [JSON.parse(call[1]!) as unknown] : [];
  });
}

describe('reference docs (docs/reference)', () => {
  it('the committed docs are what the contracts generate: run `npm run docs` and commit', () => {
    const drift = referenceDrift(committed(), generate());
    expect(drift).toEqual({ missing: [], stale: [], changed: [] });
  });

  it('has one page per operation and an index by owner and tag', () => {
    const files = generate();
    const every = [...ALL_CONTRACTS, ...STREAMING_CONTRACTS];
    expect([...files.keys()].sort()).toEqual([...every.map((c) => `${c.meta.key}.md`), 'README.md'].sort());
    const index = files.get('README.md')!;
    for (const c of every) expect(index).toContain(`[${c.meta.key}](${c.meta.key}.md)`);
    for (const owner of new Set(every.flatMap((c) => c.meta.owners))) expect(index).toContain(`### ${owner}`);
    for (const tag of new Set(every.flatMap((c) => c.meta.tags))) expect(index).toContain(`### ${tag}`);
    expect(index).toContain(`${every.length} operations, one page each`);
  });

  it('is deterministic: the same contracts give the same bytes in any order', () => {
    const a = generate();
    const b = renderReference([...ALL_CONTRACTS].reverse(), [...STREAMING_CONTRACTS].reverse());
    expect([...b.entries()]).toEqual([...a.entries()]);
  });

  it('a deliberate change to a contract shows up as drift on its page only', () => {
    const changed = { ...GetIntegration, meta: { ...GetIntegration.meta, description: 'A changed description.' } };
    const drift = referenceDrift(generate(), generate(replaced(ALL_CONTRACTS, changed)));
    expect(hasDrift(drift)).toBe(true);
    expect(drift.changed).toEqual(['integrations.integration.get.md']);

    const renamed = { ...GetIntegration, meta: { ...GetIntegration.meta, title: 'Fetch integration' } };
    expect(referenceDrift(committed(), generate(replaced(ALL_CONTRACTS, renamed))).changed.sort()).toEqual(['README.md', 'integrations.integration.get.md']);

    const withField = { ...GetIntegration, io: { ...GetIntegration.io, input: (GetIntegration.io.input as unknown as z.ZodObject).extend({ expand: z.boolean().optional() }) } };
    expect(renderOperationPage(withField)).toContain('| `expand` | body | `boolean` | no |');
    const gone = referenceDrift(committed(), generate(ALL_CONTRACTS.filter((c) => c !== GetIntegration)));
    expect(gone.stale).toEqual(['integrations.integration.get.md']);
  });

  it('`npm run docs -- --check` passes on the committed pages, the new ones included', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/generate-docs.ts', '--check']);
    expect(stdout).toContain(`docs/reference is up to date (${ALL_CONTRACTS.length + STREAMING_CONTRACTS.length + 1} files)`);
    for (const page of ['integrations.proxy.md', 'access.principal.whoami.md']) expect(committed().has(page)).toBe(true);
  });

  it('the streaming contract (the proxy) has its generated page, and the drift check covers it', () => {
    const page = renderStreamingPage(ProxyRequest);
    expect(generate().get('integrations.proxy.md')).toBe(page);
    expect(committed().get('integrations.proxy.md'), 'run `npm run docs` and commit').toBe(page);
    for (const text of [
      `# ${ProxyRequest.meta.title}`,
      '| Key | `integrations.proxy` |',
      '| Type | command (streaming) |',
      `**Goal.** ${ProxyRequest.meta.goal}`,
      `**Context.** ${ProxyRequest.meta.context}`,
      '| Path | `/v1/proxy/{key}/{id}/{path}` |',
      '| `platform.connection.use` | 1.0.0 | admin, runtime |',
      '| `path` | path | `string` | yes |',
      ProxyRequest.io.response,
      '| Client method | `lk.proxy(key, id, path, options)` |',
      '| MCP tool | none: ',
      'const response = await lk.proxy("<key>", "<id>", "<path>");',
    ]) {
      expect(page).toContain(text);
    }
    for (const method of ProxyRequest.http.methods) expect(page).toContain(`\`${method}\``);
    for (const code of ProxyRequest.io.errors) expect(page).toMatch(new RegExp(`\\| \`${code}\` \\| \\d{3} \\| .* \\| declared by this operation \\|`));

    // A change to the one declaration shows up as drift on its page (and the index when the title changes).
    const described = { ...ProxyRequest, meta: { ...ProxyRequest.meta, context: 'Another context.' } };
    expect(referenceDrift(committed(), generate(ALL_CONTRACTS, [described])).changed).toEqual(['integrations.proxy.md']);
    const renamed = { ...ProxyRequest, meta: { ...ProxyRequest.meta, title: 'Forward a request' } };
    expect(referenceDrift(committed(), generate(ALL_CONTRACTS, [renamed])).changed.sort()).toEqual(['README.md', 'integrations.proxy.md']);
    const fewer = { ...ProxyRequest, http: { ...ProxyRequest.http, methods: ProxyRequest.http.methods.filter((m) => m !== 'OPTIONS') } };
    expect(referenceDrift(committed(), generate(ALL_CONTRACTS, [fewer])).changed.sort()).toEqual(['README.md', 'integrations.proxy.md']);
    const gone = referenceDrift(committed(), generate(ALL_CONTRACTS, []));
    expect(gone.stale).toEqual(['integrations.proxy.md']);
    expect(gone.changed).toEqual(['README.md']);
  });

  it('each page has every section the spec asks for', () => {
    for (const contract of ALL_CONTRACTS) {
      const page = renderOperationPage(contract);
      const { meta } = contract;
      for (const text of [
        `# ${meta.title}`,
        `| Key | \`${meta.key}\` |`,
        `| Version | ${meta.version} |`,
        `| Type | ${contract.kind} |`,
        `| Stability | ${meta.stability} |`,
        `| Owners | ${meta.owners.join(', ')} |`,
        `**Goal.** ${meta.goal}`,
        `**Context.** ${meta.context}`,
        '## HTTP binding',
        `| Method | \`${contract.http.method}\` |`,
        `| Path | \`${contract.http.path}\` |`,
        '## Policy',
        '## Input',
        '## Output',
        '## Errors',
        '## Example',
        '### Request',
        '### Response',
      ]) {
        expect(page, `${meta.key}: ${text}`).toContain(text);
      }
      for (const p of contract.policy.policies) expect(page).toContain(`| \`${p.key}\` | ${p.version} |`);
      for (const code of contract.io.errors) expect(page).toMatch(new RegExp(`\\| \`${code}\` \\| \\d{3} \\| .* \\| declared by this operation \\|`));
      for (const alias of contract.http.aliases ?? []) expect(page).toContain(`\`${alias}\``);
      for (const q of contract.http.query ?? []) expect(page).toMatch(new RegExp(`\\| \`${q}\` \\| query \\|`));
    }
  });

  it('examples use placeholders only: no secret value, every free string is <placeholder> or a schema value', () => {
    const text = [...generate().values()].join('\n');
    for (const secret of ['gh-client-secret-value-1', 'gho_', 'ghr_', '********', 'sk_live', 'password123']) expect(text).not.toContain(secret);
    const create = renderOperationPage(CreateIntegration);
    const [requestBody] = jsonBlocks(create) as [Record<string, unknown>];
    expect(requestBody.secrets).toEqual({ '<name>': '<value>' });
    for (const contract of ALL_CONTRACTS) {
      const blocks = jsonBlocks(renderOperationPage(contract));
      // The response, the client call, and the request body when the method has one.
      expect(blocks.length, contract.meta.key).toBe(contract.http.method === 'GET' || contract.http.method === 'DELETE' ? 2 : 3);
      for (const block of blocks) {
        for (const value of strings(block)) {
          // A placeholder, an ISO timestamp placeholder, or a value the schema itself fixes (enum, const, default).
          expect(value, contract.meta.key).toMatch(/^(<[A-Za-z.*\-[\]]+>|2025-01-01T00:00:00\.000Z|[a-z0-9_.\-/ ]*|[A-Z]+)$/);
        }
      }
    }
  });

  it('walks JSON Schema into field rows and types', () => {
    const schema = jsonSchemaOf(
      z.object({
        id: z.string().describe('The id'),
        tags: z.array(z.string()).max(3),
        nested: z.object({ on: z.boolean() }).nullable(),
        list: z.array(z.object({ n: z.number().int().min(0) })),
        extra: z.object({ type: z.enum(['a', 'b']) }).catchall(z.string()),
        when: z.iso.datetime().optional(),
        count: z.number().default(5),
      }),
      'input',
    );
    expect(fieldsOf(schema).map((f) => `${f.name}: ${f.type}${f.required ? '' : '?'} — ${f.description}`)).toEqual([
      'id: string — The id',
      'tags: string[] — at most 3 items',
      'nested: object | null — ',
      'nested.on: boolean — ',
      'list: object[] — ',
      'list[].n: integer — minimum 0',
      'extra: object — ',
      'extra.type: "a" | "b" — ',
      'extra.*: string? — Any further field',
      'when: string (date-time)? — ',
      'count: number? — default `5`',
    ]);
    expect(typeOf(jsonSchemaOf(z.record(z.string(), z.array(z.union([z.string(), z.number()]))), 'output'))).toBe('Record<string, (string | number)[]>');
    expect(exampleOf(schema)).toEqual({
      id: '<id>',
      tags: ['<tags>'],
      nested: { on: true },
      list: [{ n: 0 }],
      extra: { type: 'a', '<name>': '<value>' },
      when: '2025-01-01T00:00:00.000Z',
      count: 5,
    });
  });
});
