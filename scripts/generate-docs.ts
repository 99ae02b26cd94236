/**
 * `npm run docs`: writes docs/reference/ from the contracts — one page per operation (the
 * registry's and the streaming ones) and the README index — and deletes pages no contract generates any more.
 * `npm run docs -- --check` writes nothing and exits 1 when the committed files differ.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_CONTRACTS, STREAMING_CONTRACTS } from '../src/contracts/index.js';
import { hasDrift, referenceDrift, renderReference } from '../src/surfaces/docs/index.js';

export const REFERENCE_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)), 'docs/reference');

/** The Markdown files committed in a directory, by name. */
export function readReference(dir: string): Map<string, string> {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.md'));
  } catch {
    return new Map();
  }
  return new Map(names.sort().map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

function main(args: string[]): number {
  const generated = renderReference(ALL_CONTRACTS, STREAMING_CONTRACTS);
  const drift = referenceDrift(readReference(REFERENCE_DIR), generated);
  if (args.includes('--check')) {
    if (!hasDrift(drift)) {
      console.log(`docs/reference is up to date (${generated.size} files)`);
      return 0;
    }
    for (const [label, names] of Object.entries(drift)) for (const name of names as string[]) console.error(`${label}: docs/reference/${name}`);
    console.error('docs/reference differs from the contracts: run `npm run docs` and commit the result');
    return 1;
  }
  mkdirSync(REFERENCE_DIR, { recursive: true });
  for (const name of drift.stale) rmSync(join(REFERENCE_DIR, name));
  for (const [name, content] of generated) writeFileSync(join(REFERENCE_DIR, name), content);
  console.log(`wrote ${generated.size} files to docs/reference (${drift.missing.length} new, ${drift.changed.length} changed, ${drift.stale.length} removed)`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
