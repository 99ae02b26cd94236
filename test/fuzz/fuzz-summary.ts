/** What a contract fuzz run found, and how to print it (no vitest import: scripts/fuzz.ts reads it). */
import type { FindingKind } from './fuzz-oracle.js';
import type { EngineName } from '../support/harness.js';

export interface Finding {
  kind: FindingKind;
  message: string;
  case: string;
  method: string;
  path: string;
  status: number | null;
  body: string;
}

export interface FuzzSummary {
  engine: EngineName;
  seed: number;
  cases: number;
  elapsedMs: number;
  /** Cases the HTTP client itself refused to send (e.g. a header it will not encode). */
  unsendable: number;
  byStatus: Record<string, number>;
  byRecipe: Record<string, number>;
  byContract: Record<string, number>;
  /** 2xx answers per contract: cases that got past validation into the handler. */
  successes: Record<string, number>;
  /** Refused writes whose database snapshot was compared before and after. */
  stateChecks: number;
  contractsWithoutFixture: string[];
  findings: Finding[];
}

/** A human summary of a run. */
export function formatSummary(summary: FuzzSummary): string {
  const sorted = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const lines = [
    `contract fuzz (${summary.engine}, seed ${summary.seed}): ${summary.cases} cases in ${(summary.elapsedMs / 1000).toFixed(1)} s, ${summary.findings.length} findings`,
    `  statuses:  ${sorted(summary.byStatus)}`,
    `  recipes:   ${sorted(summary.byRecipe)}`,
    `  contracts: ${Object.keys(summary.byContract).length} exercised (${sorted(summary.byContract)})`,
    `  refused writes checked for no state change: ${summary.stateChecks}; unsendable by the client: ${summary.unsendable}`,
  ];
  const neverAccepted = Object.keys(summary.byContract).filter((k) => !summary.successes[k]);
  if (neverAccepted.length > 0) lines.push(`  never answered 2xx (only refusals reached): ${neverAccepted.join(', ')}`);
  if (summary.contractsWithoutFixture.length > 0) lines.push(`  without a fixture (schema-derived cases only): ${summary.contractsWithoutFixture.join(', ')}`);
  for (const f of summary.findings) lines.push(`  FINDING ${f.kind}: ${f.message}\n    ${f.case}\n    ${f.method} ${f.path.slice(0, 300)} → ${f.status}\n    ${f.body.slice(0, 300)}`);
  return lines.join('\n');
}
