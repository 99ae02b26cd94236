import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EngineName } from '../support/harness.js';
import { formatSummary, runContractFuzz } from './fuzz-runner.js';

/**
 * A short run in `npm test` (about 15 s of fuzzing). `npm run fuzz` runs this same file
 * longer through these variables (see scripts/fuzz.ts).
 */
const seconds = Number(process.env.FUZZ_SECONDS ?? 15);
const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : undefined;
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const engine = (process.env.FUZZ_ENGINE ?? 'sqlite') as EngineName;
const long = process.env.FUZZ_SUMMARY_FILE !== undefined;

describe('contract fuzzing', () => {
  it(
    `every contract survives hostile input: no 5xx, every refusal a problem+json, refused writes change nothing (${engine}, ~${seconds} s)`,
    async () => {
      const summary = await runContractFuzz({ engine, seconds, runs, seed, ...(long ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}) });
      if (process.env.FUZZ_SUMMARY_FILE) writeFileSync(process.env.FUZZ_SUMMARY_FILE, JSON.stringify(summary));
      // Enough happened to mean something, across every contract.
      expect(summary.cases, formatSummary(summary)).toBeGreaterThan(runs !== undefined ? Math.min(runs, 50) - 1 : 200);
      const findings = summary.findings.map((f) => `${f.kind}: ${f.message} — ${f.case} → ${f.status}`);
      expect(findings, formatSummary(summary)).toEqual([]);
    },
    (seconds + 60) * 1000,
  );
});
