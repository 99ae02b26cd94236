import type { AnyContract } from '../../contracts/define.js';
import type { StreamingContract } from '../../contracts/integrations/proxy-contract.js';
import { GENERATED_NOTICE } from './operation-page.js';
import { code, pageFileOf, table } from './markdown.js';
import { streamingBindingOf } from './streaming-page.js';

type Documented = AnyContract | StreamingContract;

const bindingOf = (c: Documented) => ('stream' in c.http ? streamingBindingOf(c as StreamingContract) : `${c.http.method} ${c.http.path}`);
const kindOf = (c: Documented) => ('stream' in c.http ? `${c.kind} (streaming)` : c.kind);
const byKey = (a: Documented, b: Documented) => a.meta.key.localeCompare(b.meta.key);
const link = (c: Documented) => `[${c.meta.key}](${pageFileOf(c.meta.key)})`;
const row = (c: Documented) => [link(c), c.meta.title, code(bindingOf(c)), kindOf(c), c.meta.stability];
const HEADER = ['Operation', 'Title', 'HTTP', 'Type', 'Stability'];

/** Groups contracts by every value `keysOf` gives (an owner, a tag), groups and members sorted. */
function groupBy(contracts: readonly Documented[], keysOf: (c: Documented) => string[]): [string, Documented[]][] {
  const groups = new Map<string, Documented[]>();
  for (const contract of contracts) for (const key of keysOf(contract)) groups.set(key, [...(groups.get(key) ?? []), contract]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, members]) => [key, [...members].sort(byKey)]);
}

/**
 * `docs/reference/README.md`: every operation (the registry's and the streaming ones),
 * then the same grouped by owner and by tag.
 */
export function renderReferenceIndex(contracts: readonly AnyContract[], streaming: readonly StreamingContract[] = []): string {
  const sorted = [...contracts, ...streaming].sort(byKey);
  const sections = [
    GENERATED_NOTICE,
    '# Latchkey API reference',
    `${sorted.length} operations, one page each, generated from their contracts (src/contracts/). ` +
      'The same contracts generate the REST API, `/openapi.json`, the typed client (`latchkey/client`), the CLI and the MCP tools.',
    '## All operations',
    table(HEADER, sorted.map(row)),
    '## By owner',
    ...groupBy(sorted, (c) => c.meta.owners).flatMap(([owner, members]) => [`### ${owner}`, table(HEADER, members.map(row))]),
    '## By tag',
    ...groupBy(sorted, (c) => c.meta.tags).flatMap(([tag, members]) => [`### ${tag}`, table(HEADER, members.map(row))]),
  ];
  return `${sections.join('\n\n')}\n`;
}
