import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share real servers (Redis, Memcached); files run one at a time to keep timing tests honest.
    fileParallelism: false,
    // As vitest.shared.ts (not imported: it lies outside this package's tsconfig rootDir).
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'html', 'json-summary'],
      reportsDirectory: 'coverage',
    },
  },
})
