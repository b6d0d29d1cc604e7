import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share real servers (Redis, Memcached); files run one at a time to keep timing tests honest.
    fileParallelism: false,
  },
})
