import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = (path: string): string => fileURLToPath(new URL(`../packages/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the sources, never against a build another task may be rewriting.
    alias: [
      { find: /^@ormcache\/core\/redis$/, replacement: source('core/src/redis.ts') },
      { find: /^@ormcache\/core\/memcached$/, replacement: source('core/src/memcached.ts') },
      { find: /^@ormcache\/core$/, replacement: source('core/src/index.ts') },
      { find: /^@ormcache\/prisma$/, replacement: source('prisma/src/index.ts') },
      { find: /^@ormcache\/typeorm$/, replacement: source('typeorm/src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
