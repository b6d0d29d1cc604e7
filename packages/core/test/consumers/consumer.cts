// Type-checked by package-exports.test.ts as a CommonJS TypeScript consumer (module: nodenext).
import { type Cache, createCache, type WrapOptions } from '@ormcache/core'

const cache: Cache = createCache({ ttl: 1_000 })
const options: WrapOptions = { tags: ['users'] }
export const read = (): Promise<{ id: number }> => cache.wrap('user:1', async () => ({ id: 1 }), options)
