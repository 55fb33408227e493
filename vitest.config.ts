import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file gets its own database; files run in parallel on separate forks.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    // Every fake server is checked after each test: unexpected calls and unused expectations fail it.
    setupFiles: ['test/support/strict-fakes-setup.ts', 'test/support/temp-dirs-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
