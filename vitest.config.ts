import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Under CI=true, fails the run when the browser end-to-end test did not run (see the file).
    globalSetup: ['tests/e2e/ci-guard.ts'],
  },
});
