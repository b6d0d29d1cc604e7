import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const core = (file: string) => fileURLToPath(new URL(`../core/src/${file}`, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the core's source, never a (possibly concurrent) build of it.
    alias: [
      { find: /^@ormcache\/core$/, replacement: core('index.ts') },
      { find: /^@ormcache\/core\/redis$/, replacement: core('redis.ts') },
      { find: /^@ormcache\/core\/testing$/, replacement: core('testing.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites share one PostgreSQL database and Redis; files run one at a time.
    fileParallelism: false,
  },
})
