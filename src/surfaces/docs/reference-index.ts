import type { AnyContract } from '../../contracts/define.js';
import { GENERATED_NOTICE } from './operation-page.js';
import { code, pageFileOf, table } from './markdown.js';

const byKey = (a: AnyContract, b: AnyContract) => a.meta.key.localeCompare(b.meta.key);
const link = (c: AnyContract) => `[${c.meta.key}](${pageFileOf(c.meta.key)})`;
const row = (c: AnyContract) => [link(c), c.meta.title, code(`${c.http.method} ${c.http.path}`), c.kind, c.meta.stability];
const HEADER = ['Operation', 'Title', 'HTTP', 'Type', 'Stability'];

/** Groups contracts by every value `keysOf` gives (an owner, a tag), groups and members sorted. */
function groupBy(contracts: readonly AnyContract[], keysOf: (c: AnyContract) => string[]): [string, AnyContract[]][] {
  const groups = new Map<string, AnyContract[]>();
  for (const contract of contracts) for (const key of keysOf(contract)) groups.set(key, [...(groups.get(key) ?? []), contract]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, members]) => [key, [...members].sort(byKey)]);
}

/** `docs/reference/README.md`: every operation, then the same grouped by owner and by tag. */
export function renderReferenceIndex(contracts: readonly AnyContract[]): string {
  const sorted = [...contracts].sort(byKey);
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
