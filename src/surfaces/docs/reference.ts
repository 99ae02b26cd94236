import type { AnyContract } from '../../contracts/define.js';
import type { StreamingContract } from '../../contracts/integrations/proxy-contract.js';
import { pageFileOf } from './markdown.js';
import { renderOperationPage } from './operation-page.js';
import { renderReferenceIndex } from './reference-index.js';
import { renderStreamingPage } from './streaming-page.js';

/** The index page's file name. */
export const INDEX_FILE = 'README.md';

/**
 * Every file of `docs/reference/`: one page per operation (`<key>.md`) — the registry's
 * and the streaming ones (`STREAMING_CONTRACTS`) — and the index (`README.md`), by file
 * name, sorted. Pure and deterministic: the same contracts always give the same bytes.
 */
export function renderReference(contracts: readonly AnyContract[], streaming: readonly StreamingContract[] = []): Map<string, string> {
  const files = new Map<string, string>();
  for (const contract of contracts) files.set(pageFileOf(contract.meta.key), renderOperationPage(contract));
  for (const contract of streaming) files.set(pageFileOf(contract.meta.key), renderStreamingPage(contract));
  files.set(INDEX_FILE, renderReferenceIndex(contracts, streaming));
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** How committed docs differ from generated ones. */
export interface ReferenceDrift {
  /** Files that should exist but do not. */
  missing: string[];
  /** Files that exist but no contract generates (a removed or renamed operation). */
  stale: string[];
  /** Files whose content differs. */
  changed: string[];
}

/** Compares the committed files (name → content) with the generated ones. */
export function referenceDrift(committed: ReadonlyMap<string, string>, generated: ReadonlyMap<string, string>): ReferenceDrift {
  return {
    missing: [...generated.keys()].filter((name) => !committed.has(name)),
    stale: [...committed.keys()].filter((name) => !generated.has(name)),
    changed: [...generated.keys()].filter((name) => committed.has(name) && committed.get(name) !== generated.get(name)),
  };
}

export const hasDrift = (drift: ReferenceDrift): boolean => drift.missing.length + drift.stale.length + drift.changed.length > 0;
