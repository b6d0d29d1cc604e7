import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = (path: string) => fileURLToPath(new URL(`../../packages/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    // The demo's tests run against the sources of core and both adapters, never a (possibly
    // concurrent) build of them.
    alias: [
      { find: /^@ormcache\/core$/, replacement: source('core/src/index.ts') },
      { find: /^@ormcache\/core\/redis$/, replacement: source('core/src/redis.ts') },
      { find: /^@ormcache\/core\/memcached$/, replacement: source('core/src/memcached.ts') },
      { find: /^@ormcache\/prisma$/, replacement: source('prisma/src/index.ts') },
      { find: /^@ormcache\/typeorm$/, replacement: source('typeorm/src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The suites share PostgreSQL, Redis and Memcached; files run one at a time.
    fileParallelism: false,
  },
})
