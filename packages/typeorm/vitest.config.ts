import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const core = (path: string) => fileURLToPath(new URL(`../core/src/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the core sources, never a (possibly concurrent) core build.
    alias: [
      { find: /^@ormcache\/core$/, replacement: core('index.ts') },
      { find: /^@ormcache\/core\/redis$/, replacement: core('redis.ts') },
      { find: /^@ormcache\/core\/testing$/, replacement: core('testing.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites share real databases and Redis; files run one at a time.
    fileParallelism: false,
  },
})
