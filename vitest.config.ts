import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests spawn CLI processes and real proxies; two files at a time is plenty for a 2-core machine
    maxWorkers: 2,
  },
});
