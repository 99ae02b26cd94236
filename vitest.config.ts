import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores on CI: run two files at a time, each with its own database.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
