import type { HandlerContext } from '../contracts/context.js';
import type { InputOf } from '../contracts/define.js';
import { type GetProvider, ListProviders } from '../contracts/integrations/provider-contracts.js';
import { notFound } from '../errors.js';
import type { ProviderCatalog } from '../providers/catalog.js';
import type { ProviderDefinition } from '../providers/provider-schema.js';
import { providerCredentials } from './credential-fields.js';
import { listCursor } from './cursor.js';

const toRecord = (provider: ProviderDefinition) => ({ ...provider, credentials: providerCredentials(provider) });

/** Browsing the provider catalog. */
export function providerHandlers(catalog: ProviderCatalog) {
  return {
    async list(input: InputOf<typeof ListProviders>, _ctx: HandlerContext) {
      const cursor = listCursor(ListProviders.meta.key, input, 'string');
      const after = cursor.after;
      const q = input.q?.toLowerCase();
      const matches = catalog
        .list()
        .filter((p) => after === undefined || p.key > after)
        .filter((p) => !input.category || p.categories.includes(input.category))
        .filter((p) => !q || p.key.includes(q) || p.displayName.toLowerCase().includes(q));
      const page = cursor.page(matches.slice(0, input.limit + 1), (p) => p.key);
      return { data: page.rows.map(toRecord), nextCursor: page.nextCursor };
    },
    async get(input: InputOf<typeof GetProvider>, _ctx: HandlerContext) {
      const provider = catalog.get(input.provider);
      if (!provider) throw notFound(`Provider "${input.provider}"`);
      return toRecord(provider);
    },
  };
}
