import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProviderDefinition } from './provider-schema.js';

/**
 * The built-in provider catalog: one JSON file per provider in `catalog/`, validated at
 * load so a bad entry stops start-up instead of surfacing as a confusing request error.
 */
export class ProviderCatalog {
  private readonly byKey: Map<string, ProviderDefinition>;

  constructor(providers: ProviderDefinition[]) {
    this.byKey = new Map(providers.map((p) => [p.key, p]));
  }

  get(key: string): ProviderDefinition | undefined {
    return this.byKey.get(key);
  }

  list(): ProviderDefinition[] {
    return [...this.byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  }
}

const CATALOG_DIR = fileURLToPath(new URL('./catalog/', import.meta.url));

/** Loads and validates every `catalog/*.json`; throws naming the file and the problem. */
export function loadCatalog(dir: string = CATALOG_DIR): ProviderCatalog {
  const providers: ProviderDefinition[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
    } catch (error) {
      throw new Error(`provider catalog ${file}: ${(error as Error).message}`);
    }
    const parsed = ProviderDefinition.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`provider catalog ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    }
    if (`${parsed.data.key}.json` !== file) throw new Error(`provider catalog ${file}: key ${parsed.data.key} does not match the file name`);
    providers.push(parsed.data);
  }
  return new ProviderCatalog(providers);
}
