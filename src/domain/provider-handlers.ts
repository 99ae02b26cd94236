import type { HandlerContext } from '../contracts/context.js';
import type { InputOf } from '../contracts/define.js';
import { type GetProvider, ListProviders } from '../contracts/integrations/provider-contracts.js';
import { notFound } from '../errors.js';
import type { ProviderCatalog } from '../providers/catalog.js';
import { listCursor } from './cursor.js';

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
      return { data: page.rows, nextCursor: page.nextCursor };
    },
    async get(input: InputOf<typeof GetProvider>, _ctx: HandlerContext) {
      const provider = catalog.get(input.provider);
      if (!provider) throw notFound(`Provider "${input.provider}"`);
      return provider;
    },
  };
}
