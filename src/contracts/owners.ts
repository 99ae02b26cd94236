/** Owning teams, for docs and governance. */
export const OWNERS = {
  integrations: '@platform.integrations',
  access: '@platform.access',
  audit: '@platform.audit',
  webhooks: '@platform.webhooks',
  keys: '@platform.security',
} as const;
