import { fileURLToPath } from 'node:url'
import { defineConfig, type ViteUserConfig } from 'vitest/config'

/**
 * Coverage of the package's own sources, when a run asks for it (`vitest run --coverage`, which the
 * packages' `test` scripts do): a one-line summary per metric printed after the tests, and
 * coverage/index.html + coverage/coverage-summary.json written in the package.
 */
export const coverage = {
  provider: 'v8',
  include: ['src/**/*.ts'],
  reporter: ['text-summary', 'html', 'json-summary'],
  reportsDirectory: 'coverage',
} satisfies NonNullable<ViteUserConfig['test']>['coverage']

const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url))

/**
 * The test setup every workspace that imports ormcache packages shares: imports of the packages
 * resolve to their sources, never to a (possibly concurrent, possibly stale) build, and test
 * files run one at a time because suites share real PostgreSQL, Redis and Memcached servers.
 */
export function workspaceTestConfig(
  test: NonNullable<ViteUserConfig['test']> = {},
  /** The namespace prefixes this workspace's tests use on Redis: removed after the run (core/test/support/redis-keys.ts). */
  redisKeyPrefixes: readonly string[] = [],
): ViteUserConfig {
  // Read by the global setup, which runs in this process, not a worker.
  if (redisKeyPrefixes.length > 0) process.env.ORMCACHE_TEST_KEY_PREFIXES = redisKeyPrefixes.join(',')
  const globalSetup = [
    ...[test.globalSetup ?? []].flat(),
    ...(redisKeyPrefixes.length > 0 ? [source('core/test/support/redis-keys.ts')] : []),
  ]
  return defineConfig({
    resolve: {
      alias: [
        { find: /^@ormcache\/core$/, replacement: source('core/src/exports/index.ts') },
        { find: /^@ormcache\/core\/redis$/, replacement: source('core/src/exports/redis.ts') },
        { find: /^@ormcache\/core\/memcached$/, replacement: source('core/src/exports/memcached.ts') },
        { find: /^@ormcache\/core\/testing$/, replacement: source('core/src/exports/testing.ts') },
        { find: /^@ormcache\/core\/adapter$/, replacement: source('core/src/exports/adapter.ts') },
        { find: /^@ormcache\/core\/otel$/, replacement: source('core/src/exports/otel.ts') },
        { find: /^@ormcache\/core\/prometheus$/, replacement: source('core/src/exports/prometheus.ts') },
        { find: /^@ormcache\/prisma$/, replacement: source('prisma/src/index.ts') },
        { find: /^@ormcache\/typeorm$/, replacement: source('typeorm/src/index.ts') },
        { find: /^@ormcache\/postgres$/, replacement: source('postgres/src/index.ts') },
      ],
    },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      fileParallelism: false,
      coverage,
      ...test,
      globalSetup,
    },
  })
}
