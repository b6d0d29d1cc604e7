import { defineConfig } from 'vitest/config'

/**
 * The namespace prefixes core's suites use on Redis and the Redis Cluster (each suite adds a
 * random part; `qc` is the queue contract's). The global setup's teardown removes them, as
 * `workspaceTestConfig` does for the other workspaces: one run left ~400 keys with day-long TTLs
 * on the servers the bench measures on.
 */
process.env.ORMCACHE_TEST_KEY_PREFIXES = [
  'wb-',
  'qc',
  'l1-after-load-',
  'seen-',
  'rt-',
  'local-bump-',
  'wake-',
  'headtags-',
  'lb-',
  'dist-',
  'lone-',
  'e2e-',
  'direct-',
  'cork-',
  'tenant-',
  'caller-tags-',
  'ph-',
  'cold-',
  'shared-',
  'cl:',
  'cllife',
].join(',')

export default defineConfig({
  test: {
    globalSetup: ['test/support/redis-keys.ts'],
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
