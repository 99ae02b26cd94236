/** Owning teams, for docs and governance. */
export const OWNERS = {
  integrations: '@platform.integrations',
  access: '@platform.access',
  audit: '@platform.audit',
} as const;
