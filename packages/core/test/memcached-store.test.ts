import crypto from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import memjs from 'memjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValueTooLargeError } from '../src/errors.js'
import { createCache } from '../src/exports/index.js'
import { DEFAULT_MAX_VALUE_BYTES, memcachedStore } from '../src/exports/memcached.js'
import { runStoreContract } from '../src/exports/testing.js'
import { memcachedKey } from '../src/memcached/memcached-keys.js'
import { memcachedExpiration } from '../src/memcached/memcached-ttl.js'
import {
  freePort,
  memcachedAnswers,
  memcachedHas,
  memcachedServers,
  type OwnedServer,
  requireMemcached,
  startServer,
  unreachable,
} from './support/services.js'
import { sharedCacheSuite } from './support/shared-cache.js'

const THIRTY_DAYS_S = 30 * 24 * 60 * 60
const invalidOption = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })

runStoreContract(
  'memcached (hash ring over 2 servers)',
  async () => {
    await requireMemcached()
    return memcachedStore({ servers: memcachedServers })
  },
  { describe, it, beforeAll, afterAll },
  { ttlResolutionMs: 1_000, plainHitRead: true },
)

sharedCacheSuite('Memcached', async () => {
  await requireMemcached()
  return memcachedStore({ servers: memcachedServers })
})

describe('memcachedExpiration (ms → memcached exptime)', () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0, 400)
  const nowS = Math.floor(now / 1000)

  it('is 0 (never) without a ttl', () => {
    expect(memcachedExpiration(undefined, now)).toBe(0)
  })

  it('rounds up to whole seconds plus one clock tick, so nothing expires early', () => {
    expect(memcachedExpiration(1, now)).toBe(2)
    expect(memcachedExpiration(999, now)).toBe(2)
    expect(memcachedExpiration(1_000, now)).toBe(2)
    expect(memcachedExpiration(1_001, now)).toBe(3)
    expect(memcachedExpiration(60_000, now)).toBe(61)
    expect(memcachedExpiration(0, now)).toBe(2) // never 0, which would mean "forever"
  })

  it('stays relative up to 30 days and becomes an absolute unix time beyond', () => {
    expect(memcachedExpiration((THIRTY_DAYS_S - 1) * 1000, now)).toBe(THIRTY_DAYS_S)
    expect(memcachedExpiration(THIRTY_DAYS_S * 1000, now)).toBe(nowS + THIRTY_DAYS_S + 1)
    expect(memcachedExpiration(90 * 24 * 3600 * 1000, now)).toBe(nowS + 90 * 24 * 3600 + 1)
  })

  it('a ttl over 30 days really keeps the item on the server (sent as absolute time)', async () => {
    await requireMemcached()
    const store = memcachedStore({ servers: memcachedServers })
    try {
      const key = `long-ttl:${crypto.randomBytes(4).toString('hex')}`
      // Sent as a duration, 40 days in seconds would be read as a date in 1970: gone at once.
      await store.set(key, 'kept', 40 * 24 * 3600 * 1000)
      expect(await store.get(key)).toBe('kept')
    } finally {
      await store.close()
    }
  })
})

describe('memcachedKey', () => {
  it('passes keys the core produces through unchanged', () => {
    for (const key of [
      'ormcache:e:user:1',
      'ns:t:table:users',
      `ns:e:label~${'A'.repeat(43)}`,
      'k'.repeat(250),
    ]) {
      expect(memcachedKey(key)).toBe(key)
    }
  })

  it('hashes long, spaced, control, non-ASCII and empty keys to a safe, deterministic form', () => {
    for (const key of [
      'k'.repeat(251),
      'has space',
      'tab\tkey',
      'new\nline',
      'ünïcødé',
      '',
      'x'.repeat(5_000),
    ]) {
      const safe = memcachedKey(key)
      expect(safe).toMatch(/^[\x21-\x7e]{1,250}$/)
      expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(250)
      expect(memcachedKey(key)).toBe(safe)
    }
    expect(memcachedKey('a b')).not.toBe(memcachedKey('a  b'))
  })

  it('never lets a hashed form equal a key passed through unchanged', () => {
    const hashed = memcachedKey('has space')
    // Someone storing the hashed form literally gets it hashed again, not the same slot.
    expect(memcachedKey(hashed)).not.toBe(hashed)
  })

  it('stores and reads unsafe keys for real', async () => {
    await requireMemcached()
    const store = memcachedStore({ servers: memcachedServers })
    try {
      const keys = ['with space', `long:${'x'.repeat(400)}`, 'ünï:🙂', 'ctl\u0001key']
      for (const key of keys) await store.set(key, `v:${key}`)
      expect(await store.getMany(keys)).toEqual(keys.map((key) => `v:${key}`))
    } finally {
      await store.close()
    }
  })
})

describe('memcachedStore on real servers', () => {
  beforeAll(() => requireMemcached())

  it('spreads keys over both servers, each key on exactly the server the ring names', async () => {
    const store = memcachedStore({ servers: memcachedServers })
    try {
      const run = crypto.randomBytes(4).toString('hex')
      const keys = Array.from({ length: 200 }, (_, i) => `spread:${run}:${i}`)
      await store.setMany(keys.map((key) => ({ key, value: '1', ttlMs: 60_000 })))
      const perServer = new Map<string, number>()
      for (const key of keys) {
        const owner = store.serverFor(key)
        perServer.set(owner, (perServer.get(owner) ?? 0) + 1)
        for (const server of memcachedServers) expect(await memcachedHas(server, key)).toBe(server === owner)
      }
      expect([...perServer.keys()].sort()).toEqual([...memcachedServers].sort())
      for (const count of perServer.values()) expect(count).toBeGreaterThan(40)
    } finally {
      await store.close()
    }
  })

  it('refuses an oversized value with ValueTooLargeError before any network call', async () => {
    const nobody = await freePort()
    // No server listens here: any network attempt would fail with a connection error instead.
    const offline = memcachedStore({ servers: `127.0.0.1:${nobody}`, maxValueBytes: 1_000 })
    const big = 'x'.repeat(1_001)
    await expect(offline.set('big', big)).rejects.toBeInstanceOf(ValueTooLargeError)
    await expect(offline.add('big', big)).rejects.toMatchObject({ code: 'ERR_VALUE_TOO_LARGE', limit: 1_000 })
    await expect(offline.compareAndSet('big', 'a', big)).rejects.toBeInstanceOf(ValueTooLargeError)
    await expect(offline.setMany([{ key: 'big', value: big }])).rejects.toBeInstanceOf(ValueTooLargeError)
    // bytes are counted in UTF-8: 500 "é" are 1,000 bytes (fits), 501 are 1,002 (does not)
    await expect(offline.set('e', 'é'.repeat(501))).rejects.toMatchObject({ bytes: 1_002 })
    await expect(offline.set('e', 'é'.repeat(500))).rejects.not.toBeInstanceOf(ValueTooLargeError)
    await offline.close()
  })

  it('through createCache an oversized value is an error event and the loaded value, never a throw', async () => {
    const cache = createCache({
      store: memcachedStore({ servers: memcachedServers, maxValueBytes: 2_000 }),
      namespace: `big-${crypto.randomBytes(4).toString('hex')}`,
    })
    const codes: string[] = []
    cache.on('error', ({ error }) => codes.push(error.code))
    try {
      const big = 'x'.repeat(5_000)
      expect(await cache.wrap('big', async () => big)).toBe(big)
      expect(codes).toEqual(['ERR_VALUE_TOO_LARGE'])
      expect(await cache.wrapWithInfo('big', async () => big)).toMatchObject({ info: { source: 'miss' } })
      await cache.set('big', big) // resolves; reported, not thrown
      expect(codes).toEqual(['ERR_VALUE_TOO_LARGE', 'ERR_VALUE_TOO_LARGE', 'ERR_VALUE_TOO_LARGE'])
      expect(await cache.wrapWithInfo('small', async () => 'ok')).toMatchObject({ value: 'ok' })
      expect(await cache.wrapWithInfo('small', async () => 'ok')).toMatchObject({ info: { source: 'hit' } })
    } finally {
      await cache.close()
    }
  })

  it('the default limit fits a real memcached item even with the longest key', async () => {
    const store = memcachedStore({ servers: memcachedServers })
    try {
      expect(store.capabilities).toEqual({ shared: true, maxValueBytes: DEFAULT_MAX_VALUE_BYTES })
      const key = `max:${crypto.randomBytes(4).toString('hex')}:`.padEnd(250, 'k')
      const value = 'v'.repeat(DEFAULT_MAX_VALUE_BYTES)
      await store.set(key, value)
      expect(await store.get(key)).toBe(value)
      await expect(store.set(key, `${value}v`)).rejects.toBeInstanceOf(ValueTooLargeError)
      await store.delete(key)
    } finally {
      await store.close()
    }
  })

  it('maps the server refusing a value (limit set above its -I) to ValueTooLargeError', async () => {
    const store = memcachedStore({ servers: memcachedServers, maxValueBytes: 4 * 1024 * 1024 })
    try {
      const error = await store
        .set('too-big-for-server', 'x'.repeat(2 * 1024 * 1024))
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValueTooLargeError)
      // and a following write on the same connection still works
      await store.set('after-too-big', 'ok')
      expect(await store.get('after-too-big')).toBe('ok')
    } finally {
      await store.close()
    }
  })

  it("keeps a 1 s entry for at least 1 s (memcached's coarse clock would drop it early)", async () => {
    const store = memcachedStore({ servers: memcachedServers })
    try {
      const run = crypto.randomBytes(4).toString('hex')
      // Staggered over a full second so the sets land on every phase of the server's clock tick:
      // with a plain 1 s exptime most of these would already be gone 900 ms later.
      const checks = Array.from({ length: 5 }, async (_, i) => {
        await sleep(i * 200)
        await store.set(`tick:${run}:${i}`, 'alive', 1_000)
        await sleep(900)
        return store.get(`tick:${run}:${i}`)
      })
      expect(await Promise.all(checks)).toEqual(Array(5).fill('alive'))
    } finally {
      await store.close()
    }
  })

  it('compareAndSet is atomic across connections: concurrent increments never get lost', async () => {
    const stores = [
      memcachedStore({ servers: memcachedServers }),
      memcachedStore({ servers: memcachedServers }),
    ]
    const key = `counter:${crypto.randomBytes(4).toString('hex')}`
    try {
      await stores[0]!.set(key, '0')
      const increment = async (store: (typeof stores)[number]) => {
        for (;;) {
          const current = (await store.get(key))!
          if (await store.compareAndSet(key, current, String(Number(current) + 1))) return
        }
      }
      // 2 connections x 20 workers x 5 increments, interleaving freely
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          for (let n = 0; n < 5; n++) await increment(stores[i % 2]!)
        }),
      )
      expect(await stores[1]!.get(key)).toBe('200')
    } finally {
      for (const store of stores) await store.close()
    }
  }, 60_000)

  it('deleteIfEquals does not delete a value replaced after it was read', async () => {
    const owner = memcachedStore({ servers: memcachedServers })
    const other = memcachedStore({ servers: memcachedServers })
    const key = `lease:${crypto.randomBytes(4).toString('hex')}`
    try {
      await owner.set(key, 'token-a')
      await other.set(key, 'token-b') // the lease expired and another process took it
      expect(await owner.deleteIfEquals(key, 'token-a')).toBe(false)
      expect(await other.get(key)).toBe('token-b')
    } finally {
      await owner.close()
      await other.close()
    }
  })
})

describe('memcachedStore with a node that dies', () => {
  let spare: OwnedServer
  let servers: string[]

  beforeAll(async () => {
    await requireMemcached()
    const port = await freePort()
    spare = await startServer(
      'memcached',
      [...(process.getuid?.() === 0 ? ['-u', 'root'] : []), '-l', '127.0.0.1', '-p', String(port), '-U', '0'],
      port,
      () => memcachedAnswers('127.0.0.1', port),
    ).catch((error: unknown) => {
      throw unreachable('memcached (binary, for a third test server)', `127.0.0.1:${port}`, error)
    })
    servers = [...memcachedServers, `127.0.0.1:${port}`]
  })
  afterAll(() => spare?.stop())

  it("fails the dead node's keys instead of moving them, while the live nodes keep working", async () => {
    const store = memcachedStore({ servers, timeout: 0.3 })
    try {
      const run = crypto.randomBytes(4).toString('hex')
      const keys = Array.from({ length: 60 }, (_, i) => `dies:${run}:${i}`)
      const dead = servers[2]!
      const onDead = keys.filter((key) => store.serverFor(key) === dead)
      const onLive = keys.filter((key) => store.serverFor(key) !== dead)
      expect(onDead.length).toBeGreaterThan(5)
      expect(onLive.length).toBeGreaterThan(5)
      await store.setMany(keys.map((key) => ({ key, value: `v:${key}` })))
      expect(await store.get(onDead[0]!)).toBe(`v:${onDead[0]}`)

      await spare.stop()
      expect(await memcachedAnswers('127.0.0.1', spare.port)).toBe(false)

      for (const key of onDead.slice(0, 3)) {
        await expect(store.get(key)).rejects.toThrow()
        await expect(store.set(key, 'new')).rejects.toThrow()
        await expect(store.add(key, 'new')).rejects.toThrow()
        await expect(store.compareAndSet(key, `v:${key}`, 'new')).rejects.toThrow()
        await expect(store.delete(key)).rejects.toThrow()
        // still mapped to the dead node: nothing was silently rehashed onto a neighbour
        expect(store.serverFor(key)).toBe(dead)
      }
      // A batch that touches the dead node fails as a whole, so the cache goes to the database.
      await expect(store.getMany([onLive[0]!, onDead[0]!])).rejects.toThrow()
      // Keys on live nodes are unaffected.
      expect(await store.getMany(onLive)).toEqual(onLive.map((key) => `v:${key}`))
      await store.set(onLive[0]!, 'still writable')
      expect(await store.get(onLive[0]!)).toBe('still writable')
      // and none of the dead node's keys appeared on a live server
      for (const key of onDead) {
        for (const live of servers.slice(0, 2)) expect(await memcachedHas(live, key)).toBe(false)
      }
    } finally {
      await store.close()
    }
  })
})

describe('memcachedStore options', () => {
  it('works over a memjs client it was given, and leaves it open on close()', async () => {
    await requireMemcached()
    const client = memjs.Client.create(memcachedServers[0], { logger: { log() {} } })
    const store = memcachedStore({ client })
    const key = `given:${crypto.randomBytes(4).toString('hex')}`
    try {
      expect(store.serverFor(key)).toBe('client')
      await store.set(key, 'ünï 🙂')
      expect(await store.get(key)).toBe('ünï 🙂')
      expect(await store.compareAndSet(key, 'ünï 🙂', 'next')).toBe(true)
      await store.close()
      expect((await client.get(key)).value?.toString()).toBe('next')
    } finally {
      client.close()
    }
  })

  it('rejects bad options with typed errors', () => {
    expect(() => memcachedStore({ servers: [] })).toThrow(invalidOption)
    expect(() => memcachedStore({ servers: 'a:1,a:1' })).toThrow(invalidOption)
    expect(() => memcachedStore({ servers: 'host:99999' })).toThrow(invalidOption)
    expect(() => memcachedStore({ servers: 'has space:1' })).toThrow(invalidOption)
    expect(() => memcachedStore({ servers: 'a:1', maxValueBytes: 0 })).toThrow(invalidOption)
    expect(() => memcachedStore({ servers: 'a:1', tls: {} } as never)).toThrow(invalidOption)
    expect(() => memcachedStore({ servers: 'a:1', failover: true } as never)).toThrow(invalidOption)
    expect(() => memcachedStore({ client: {} as never })).toThrow(invalidOption)
    expect(() => memcachedStore({} as never)).toThrow(invalidOption)
  })

  it('parses credentials, IPv6 hosts and default ports', () => {
    const store = memcachedStore({ servers: 'user:p%40ss@[::1]:11299, 127.0.0.1' })
    const owners = new Set(Array.from({ length: 50 }, (_, i) => store.serverFor(`k${i}`)))
    expect(owners).toEqual(new Set(['[::1]:11299', '127.0.0.1:11211']))
  })
})
