import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import type { HarnessOptions } from './clients.js'
import { DIALECTS, type Dialect } from './databases.js'
import { redisUrl } from './env.js'

/**
 * Every dialect with the memory store and with a Redis store (its own namespace per suite), for
 * `describe.each`: the precision suites must hold on a remote store as on the in-process one, and
 * with lists depending on member tags (`listTags: 'members'`) as with row tags.
 */
export function dialectsTimesStores(namespace: string): (readonly [Dialect, string, () => HarnessOptions])[] {
  const stores: [string, () => HarnessOptions][] = [
    ['memory store', () => ({})],
    [
      'redis store',
      () => ({
        cache: createCache({
          store: redisStore({ url: redisUrl() }),
          namespace: `${namespace}-${Math.random()}`,
        }),
      }),
    ],
    [
      'redis store, member tags',
      () => ({
        cache: createCache({
          store: redisStore({ url: redisUrl() }),
          namespace: `${namespace}-members-${Math.random()}`,
        }),
        listTags: 'members',
      }),
    ],
  ]
  return DIALECTS.flatMap((d) => stores.map(([name, options]) => [d, name, options] as const))
}
