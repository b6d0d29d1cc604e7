import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { buildKey, MAX_TTL_MS } from '../src/exports/adapter.js'
import {
  type CacheOptions,
  createCache,
  InvalidKeyError,
  InvalidOptionError,
  memoryStore,
  NotSerializableError,
  OrmCacheError,
  writeBehind,
} from '../src/exports/index.js'
import { memcachedStore } from '../src/exports/memcached.js'
import { redisStreamQueue } from '../src/exports/redis.js'

/**
 * Every option a user can get wrong is refused when the cache (store, queue) is created, with an
 * `InvalidOptionError` naming the option by its full path: a typo never silently leaves a default
 * in place, and a bad value never reaches a timer or a store that would ignore it.
 */

/** Throws the typed error for `option`; returns it for further checks. */
function refused(make: () => unknown, option: string): InvalidOptionError {
  let caught: unknown
  try {
    make()
  } catch (error) {
    caught = error
  }
  expect(caught, `expected "${option}" to be refused`).toBeInstanceOf(InvalidOptionError)
  const error = caught as InvalidOptionError
  expect(error.code).toBe('ERR_INVALID_OPTION')
  expect(error.option).toBe(option)
  expect(error.message).toContain(`"${option}"`)
  return error
}

const cacheWith = (options: unknown) => () => createCache(options as CacheOptions)
const rejectedCount = { value: 0 }

describe('cache options', () => {
  const typos: [string, unknown][] = [
    ['timeouts.reed', { timeouts: { reed: 5 } }],
    ['circuitBreaker.failureTreshold', { circuitBreaker: { failureTreshold: 3 } }],
    ['l1.maxEntry', { l1: { maxEntry: 10 } }],
    ['lease.wiat', { lease: { wiat: 10 } }],
    ['ttll', { ttll: 5 }],
  ]
  it.each(typos)('refuses the unknown key %s and suggests the known one', (option, options) => {
    const error = refused(cacheWith(options), option)
    expect(error.message).toMatch(/did you mean "(read|failureThreshold|maxEntries|wait|ttl)"/)
    rejectedCount.value += 1
  })

  const badValues: [string, unknown][] = [
    ['circuitBreaker', { circuitBreaker: 'off' }],
    ['circuitBreaker.failureThreshold', { circuitBreaker: { failureThreshold: -1 } }],
    ['circuitBreaker.failureThreshold', { circuitBreaker: { failureThreshold: '3' } }],
    ['circuitBreaker.failureThreshold', { circuitBreaker: { failureThreshold: 1.5 } }],
    ['circuitBreaker.resetAfterMs', { circuitBreaker: { resetAfterMs: Number.NaN } }],
    ['circuitBreaker.resetAfterMs', { circuitBreaker: { resetAfterMs: 2 ** 31 } }],
    ['tagTtl', { tagTtl: 1e19 }],
    ['ttl', { ttl: 1e19 }],
    ['ttl', { ttl: MAX_TTL_MS + 1 }],
    ['negativeTtl', { negativeTtl: -1 }],
    ['staleWhileRevalidate', { staleWhileRevalidate: Number.POSITIVE_INFINITY }],
    ['bus', { bus: 'redis', l1: {} }],
    ['bus', { bus: {}, l1: {} }],
    ['l1', { l1: 'on' }],
    ['l1.maxEntries', { l1: { maxEntries: 0 } }],
    ['lease', { lease: 5 }],
    ['lease.wait', { lease: { wait: -5 } }],
    ['timeouts', { timeouts: 100 }],
    ['timeouts.read', { timeouts: { read: '100' } }],
    ['timeouts.write', { timeouts: { write: 2 ** 31 } }],
    ['recoveryGrace', { recoveryGrace: Number.NaN }],
    ['namespace', { namespace: '' }],
    ['namespace', { namespace: 'a b' }],
    ['onError', { onError: 'log' }],
  ]
  it.each(badValues)('refuses a bad value for %s', (option, options) => {
    refused(cacheWith(options), option)
    rejectedCount.value += 1
  })

  it('keeps accepting every valid form', async () => {
    const cache = createCache({
      ttl: MAX_TTL_MS,
      tagTtl: MAX_TTL_MS,
      circuitBreaker: { failureThreshold: 1, resetAfterMs: 10 },
      timeouts: { read: 0, write: 2 ** 31 - 1 },
      lease: { ttl: 10, wait: 0 },
      l1: false,
      bus: false,
    })
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    await cache.close()
    await createCache({ circuitBreaker: false, lease: false }).close()
  })

  it('validates per-call options the same way', async () => {
    const cache = createCache()
    try {
      await expect(cache.set('k', 1, { ttl: 1e19 })).rejects.toMatchObject({ option: 'ttl' })
      await expect(cache.set('k', 1, { tll: 5 } as never)).rejects.toThrow(/did you mean "ttl"/)
      await expect(cache.wrap('k', async () => 1, { ttl: -1 })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
        option: 'ttl',
      })
      rejectedCount.value += 3
    } finally {
      await cache.close()
    }
  })
})

describe('store and queue options', () => {
  const client = new Redis({ lazyConnect: true })
  afterAll(() => client.disconnect())

  it('refuses unknown memoryStore options', () => {
    refused(() => memoryStore({ maxByte: 10 } as never), 'maxByte')
    refused(() => memoryStore({ maxBytes: -1 }), 'maxBytes')
    rejectedCount.value += 2
  })

  it('refuses unknown and bad Memcached options', () => {
    refused(() => memcachedStore({ servers: '127.0.0.1:11211', timout: 1 } as never), 'timout')
    refused(() => memcachedStore({ servers: '127.0.0.1:11211', timeout: -1 }), 'timeout')
    refused(() => memcachedStore({ servers: '127.0.0.1:11211', retries: 0 }), 'retries')
    rejectedCount.value += 3
  })

  it('refuses unknown and bad queue options', () => {
    refused(() => redisStreamQueue({ client, claimIdle: 5 } as never), 'claimIdle')
    refused(() => redisStreamQueue({ client, claimIdleMs: 0 }), 'claimIdleMs')
    refused(
      () => redisStreamQueue({ client, shareAcrossNamespaces: 'yes' } as never),
      'shareAcrossNamespaces',
    )
    rejectedCount.value += 3
  })

  it('refuses unknown write-behind options', () => {
    const cache = createCache()
    refused(() => writeBehind({ cache, flush: () => {}, flushInterval: 5 } as never), 'flushInterval')
    rejectedCount.value += 1
  })
})

describe('values nested too deep', () => {
  const nested = (depth: number) => {
    let value: unknown = 'leaf'
    for (let i = 0; i < depth; i++) value = { next: value }
    return value
  }

  it('set() refuses them with NotSerializableError, not a RangeError', async () => {
    const cache = createCache()
    try {
      const error = await cache.set('deep', nested(5_000)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(NotSerializableError)
      expect((error as Error).message).toContain('nested deeper than 1000 levels')
      // A value just inside the limit still round-trips.
      await cache.set('ok', nested(900))
      expect(await cache.get('ok')).toEqual(nested(900))
      rejectedCount.value += 1
    } finally {
      await cache.close()
    }
  })

  it('buildKey() refuses them with InvalidKeyError', () => {
    expect(() => buildKey([nested(5_000)])).toThrow(InvalidKeyError)
    expect(() => buildKey([nested(5_000)])).toThrow(/nested deeper than 1000 levels/)
    expect(buildKey([nested(900)])).toContain('leaf')
    rejectedCount.value += 1
  })

  it('wrap() returns the loaded value and reports a NotSerializableError, not a store error', async () => {
    const cache = createCache()
    const reported: OrmCacheError[] = []
    cache.on('error', ({ error }) => reported.push(error))
    try {
      const deep = nested(5_000)
      expect(await cache.wrap('deep', async () => deep)).toBe(deep)
      expect(reported.map((e) => e.code)).toEqual(['ERR_NOT_SERIALIZABLE'])
      rejectedCount.value += 1
    } finally {
      await cache.close()
    }
  })

  it('counts every bad input refused above', () => {
    // Printed for the report; asserted so a dropped case is noticed.
    console.log(`option-validation: ${rejectedCount.value} bad inputs refused with typed errors`)
    expect(rejectedCount.value).toBeGreaterThanOrEqual(40)
    expect(OrmCacheError.is(new InvalidOptionError('x', 'y'))).toBe(true)
  })
})
