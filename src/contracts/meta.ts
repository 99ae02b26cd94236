import type { ContractMeta } from './define.js';

/**
 * A `meta` builder for one domain: the owner and base tags are fixed, each contract gives
 * its key, title and texts. New contracts start `experimental` at 1.0.0.
 */
export function metaFor(owner: string, baseTags: string[]) {
  return (key: string, title: string, description: string, goal: string, context: string, extraTags: string[] = []): ContractMeta => ({
    key,
    title,
    version: '1.0.0',
    description,
    goal,
    context,
    owners: [owner],
    tags: [...baseTags, ...extraTags],
    stability: 'experimental',
  });
}
