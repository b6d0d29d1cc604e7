// Loaded by package-exports.test.ts: an ESM consumer, sharing one instance with require().
import { createRequire } from 'node:module'
import * as core from '@ormcache/core'

const required = createRequire(import.meta.url)('@ormcache/core')
const cache = core.createCache()
await cache.set('k', { d: new Date(0) })
process.stdout.write(
  JSON.stringify({
    createCache: typeof core.createCache,
    sameInstance: required.createCache === core.createCache && required.OrmCacheError === core.OrmCacheError,
    roundTrip: (await cache.get('k')).d instanceof Date,
  }),
)
