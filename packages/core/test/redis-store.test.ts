import crypto from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisStore } from '../src/exports/redis.js'
import { runStoreContract } from '../src/exports/testing.js'
import {
  connectRedis,
  freePort,
  type OwnedServer,
  redisAnswers,
  redisUrl,
  startServer,
  unreachable,
} from './support/services.js'
import { sharedCacheSuite } from './support/shared-cache.js'

runStoreContract(
  'redis (single node, from { url })',
  async () => {
    ;(await connectRedis()).disconnect()
    return redisStore({ url: redisUrl })
  },
  { describe, it, beforeAll, afterAll },
  { plainHitRead: true },
)

sharedCacheSuite('Redis', async () => {
  ;(await connectRedis()).disconnect()
  return redisStore({ url: redisUrl })
})

/** A private redis-server on a spare port, so command counts belong to this test alone. */
async function privateRedis(...extra: string[]): Promise<OwnedServer> {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra]
  return startServer('redis-server', args, port, () => redisAnswers('127.0.0.1', port)).catch(
    (error: unknown) => {
      throw unreachable('redis-server (binary, for a private test server)', `127.0.0.1:${port}`, error)
    },
  )
}

/** Calls per command since the server started, from INFO commandstats. */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const info = await client.info('commandstats')
  const calls = new Map<string, number>()
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]))
  return calls
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0)
    if (d > 0 && name !== 'info') out[name] = d
  }
  return out
}

describe('redisStore on a single node', () => {
  let server: OwnedServer
  let observer: Redis

  beforeAll(async () => {
    server = await privateRedis()
    observer = new Redis(server.port, '127.0.0.1')
  })
  afterAll(async () => {
    observer?.disconnect()
    await server?.stop()
  })

  it('reads many keys with exactly one MGET (one round trip), auto-pipelined client or not', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `rt:${i}`)
    const fromUrl = redisStore({ url: `redis://127.0.0.1:${server.port}` })
    const plain = new Redis(server.port, '127.0.0.1')
    const given = redisStore({ client: plain })
    try {
      await fromUrl.setMany(keys.slice(0, 6).map((key) => ({ key, value: `v-${key}` })))
      for (const store of [fromUrl, given]) {
        await store.get('warm-up') // connect before measuring
        const before = await commandCalls(observer)
        const values = await store.getMany(keys)
        const after = await commandCalls(observer)
        expect(delta(before, after)).toEqual({ mget: 1 })
        expect(values).toEqual(keys.map((key, i) => (i < 6 ? `v-${key}` : undefined)))
      }
    } finally {
      await fromUrl.close()
      plain.disconnect()
    }
  })

  it('writes a batch as one pipeline of SET … PX, each with its own ttl', async () => {
    const store = redisStore({ url: `redis://127.0.0.1:${server.port}` })
    try {
      await store.get('warm-up')
      const before = await commandCalls(observer)
      await store.setMany([
        { key: 'sm:a', value: 'a', ttlMs: 60_000 },
        { key: 'sm:b', value: 'b' },
        { key: 'sm:c', value: 'c', ttlMs: 1_500.4 },
      ])
      expect(delta(before, await commandCalls(observer))).toEqual({ set: 3 })
      expect(await observer.pttl('sm:a')).toBeGreaterThan(59_000)
      expect(await observer.pttl('sm:b')).toBe(-1) // no ttl = no expiry
      // a fractional ttl is rounded up to whole ms (PX rejects fractions)
      expect(await observer.pttl('sm:c')).toBeGreaterThan(1_000)
      expect(await observer.pttl('sm:c')).toBeLessThanOrEqual(1_501)
    } finally {
      await store.close()
    }
  })

  it('add is SET NX PX and the conditional writes are scripts that survive SCRIPT FLUSH', async () => {
    const store = redisStore({ url: `redis://127.0.0.1:${server.port}` })
    try {
      expect(await store.add('lease', 'owner-1', 5_000)).toBe(true)
      expect(await observer.pttl('lease')).toBeGreaterThan(4_000)
      await store.set('cas', 'v1')
      await observer.script('FLUSH') // the next EVALSHA meets NOSCRIPT and must fall back to EVAL
      expect(await store.compareAndSet('cas', 'v1', 'v2', 10_000)).toBe(true)
      expect(await observer.pttl('cas')).toBeGreaterThan(9_000)
      await observer.script('FLUSH')
      expect(await store.deleteIfEquals('lease', 'owner-1')).toBe(true)
      expect(await observer.exists('lease')).toBe(0)
      expect(await store.compareAndSet('cas', 'v2', 'v3')).toBe(true)
      expect(await observer.pttl('cas')).toBe(-1) // no ttl on the swap = no expiry
    } finally {
      await store.close()
    }
  })
})

describe('redisStore AUTH from the URL and from pass-through options', () => {
  let server: OwnedServer
  const password = `pw-${crypto.randomBytes(6).toString('hex')}`

  beforeAll(async () => {
    server = await privateRedis('--requirepass', password)
    const admin = new Redis(server.port, '127.0.0.1', { password })
    await admin.acl('SETUSER', 'app', 'on', '>app-secret', '~*', '+@all')
    admin.disconnect()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('authenticates with the password in the URL', async () => {
    const store = redisStore({ url: `redis://:${password}@127.0.0.1:${server.port}` })
    try {
      await store.set('k', 'authed')
      expect(await store.get('k')).toBe('authed')
    } finally {
      await store.close()
    }
  })

  it('authenticates as an ACL user with username and password in the URL', async () => {
    const store = redisStore({ url: `redis://app:app-secret@127.0.0.1:${server.port}` })
    try {
      await store.set('k2', 'as app')
      expect(await store.get('k2')).toBe('as app')
      const whoami = await (store.client as Redis).acl('WHOAMI')
      expect(whoami).toBe('app')
    } finally {
      await store.close()
    }
  })

  it('passes a password option through to ioredis', async () => {
    const store = redisStore({ url: `redis://127.0.0.1:${server.port}`, password })
    try {
      expect(await store.get('k')).toBe('authed')
    } finally {
      await store.close()
    }
  })

  it('rejects every operation without the password (the cache then falls back)', async () => {
    const store = redisStore({ url: `redis://127.0.0.1:${server.port}`, maxRetriesPerRequest: 0 })
    try {
      await expect(store.get('k')).rejects.toThrow(/NOAUTH/)
    } finally {
      await store.close()
    }
  })
})

describe('redisStore close()', () => {
  let side: Redis
  beforeAll(async () => {
    side = await connectRedis()
  })
  afterAll(() => side?.disconnect())

  const connectedNames = async () => {
    const list = await side.client('LIST')
    return [...String(list).matchAll(/ name=(\S*)/g)].map((m) => m[1])
  }

  it('quits the client it created from { url }', async () => {
    const name = `ormcache-close-${crypto.randomBytes(4).toString('hex')}`
    const store = redisStore({ url: redisUrl, connectionName: name })
    await store.set(`${name}:k`, 'v')
    expect(await connectedNames()).toContain(name)
    await store.close()
    expect(store.client.status).toBe('end')
    expect(await connectedNames()).not.toContain(name)
    await side.del(`${name}:k`)
  })

  it('leaves a client it was given open, unless ownsClient is set', async () => {
    const given = await connectRedis()
    await redisStore({ client: given }).close()
    expect(given.status).toBe('ready')
    expect(await given.ping()).toBe('PONG')

    await redisStore({ client: given, ownsClient: true }).close()
    expect(given.status).toBe('end')
  })

  it('closes an owned client that never connected, cancelling its reconnect loop', async () => {
    const port = await freePort() // nobody listens here
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, maxRetriesPerRequest: 0 })
    await expect(store.get('k')).rejects.toThrow()
    let attempts = 0
    store.client.on('reconnecting', () => attempts++)
    await store.close()
    await sleep(500) // ioredis would retry after 50, 100, 150… ms
    expect(attempts).toBe(0)

    // The measurement itself: a client nobody closes keeps trying.
    const orphan = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 })
    orphan.on('error', () => {})
    let orphanAttempts = 0
    orphan.on('reconnecting', () => orphanAttempts++)
    await redisStore({ client: orphan }).close()
    await sleep(500)
    expect(orphanAttempts).toBeGreaterThan(0)
    orphan.disconnect()
  })
})

describe('redisStore options', () => {
  it('rejects bad options with typed errors', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })
    expect(() => redisStore({ url: 'http://127.0.0.1:6379' })).toThrow(invalid)
    expect(() => redisStore({ url: '' })).toThrow(invalid)
    expect(() => redisStore({} as never)).toThrow(invalid)
    expect(() => redisStore({ client: {} as never })).toThrow(invalid)
    expect(() => redisStore({ url: 'redis+cluster://127.0.0.1:7000,not a host' })).toThrow(invalid)
  })

  it('declares itself shared, with ordered batches on one node', async () => {
    const client = await connectRedis()
    const store = redisStore({ client })
    expect(store.name).toBe('redis')
    expect(store.capabilities).toEqual({ shared: true, orderedBatches: true })
    client.disconnect()
  })

  it('never enumerates or flushes keys: no KEYS, SCAN, FLUSHDB or FLUSHALL in src', () => {
    const root = join(import.meta.dirname, '../src')
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(20)
    let redisFiles = 0
    for (const file of files) {
      const source = readFileSync(join(root, file), 'utf8')
      expect(source, file).not.toMatch(
        /\.(scan|scanStream|flushdb|flushall)\(|['"](keys|scan|flushdb|flushall)['"]/i,
      )
      // `.keys(` is also Map/Object API; on a file that talks to ioredis it would be KEYS.
      if (!/from 'ioredis'/.test(source)) continue
      redisFiles++
      expect(source, file).not.toMatch(/\.keys\(/)
    }
    expect(redisFiles).toBeGreaterThan(0)
  })
})
