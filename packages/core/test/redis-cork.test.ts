import crypto from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { connectRedis } from './support/services.js'

/**
 * redis-cork.ts: the commands the store sends in one turn of the event loop leave in one socket write. Counted at
 * the socket (each `_write`/`_writev` the stream makes is one system call), never timed.
 */
interface Socketish {
  _write: (...args: unknown[]) => unknown
  _writev?: (...args: unknown[]) => unknown
}

function countWrites(client: Redis): { writes: number } {
  const stream = (client as unknown as { stream: Socketish }).stream
  const counted = { writes: 0 }
  const write = stream._write.bind(stream)
  stream._write = (...args) => {
    counted.writes += 1
    return write(...args)
  }
  if (stream._writev !== undefined) {
    const writev = stream._writev.bind(stream)
    stream._writev = (...args) => {
      counted.writes += 1
      return writev(...args)
    }
  }
  return counted
}

const tags = ['users', 'user:1']
const unique = () => `cork-${crypto.randomBytes(5).toString('hex')}`

describe('one socket write per loop turn (Redis)', () => {
  let client: Redis
  let cache: Cache
  beforeAll(async () => {
    client = await connectRedis()
    cache = createCache({ namespace: unique(), bus: false, store: redisStore({ client }) })
    await cache.wrap('warm', async () => 'w', { tags })
  })
  afterAll(async () => {
    await cache?.close()
    client?.disconnect()
  })

  it("a hit's GETEX and MGET leave together", async () => {
    const key = unique()
    await cache.wrap(key, async () => 'v', { tags })
    const counted = countWrites(client)
    expect(await cache.wrapWithInfo(key, async () => 'never', { tags })).toEqual({
      value: 'v',
      info: { source: 'hit', tier: 'l2' },
    })
    expect(counted.writes).toBe(1)
  })

  /** Three cached keys, each holding its own name. */
  async function primed(): Promise<string[]> {
    const keys = Array.from({ length: 3 }, () => unique())
    for (const key of keys) await cache.wrap(key, async () => key, { tags })
    return keys
  }

  /**
   * Reads each key from a callback of its own, as ORM callers resume (a reply batch, an
   * immediate); holding writes only until the tick ended sent a write, and a batch, per caller.
   */
  function readFromImmediates(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(
      keys.map(
        (key) =>
          new Promise<unknown>((resolve, reject) => {
            setImmediate(() => cache.wrap(key, async () => 'never', { tags }).then(resolve, reject))
          }),
      ),
    )
  }

  /** A batch of several readers: the next batches wait for the immediates (not alone). */
  async function concurrently(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => cache.wrap(key, async () => 'never', { tags })))
  }

  it('hits started in separate callbacks of one loop turn leave in one write', async () => {
    const keys = await primed()
    await concurrently(keys)
    const counted = countWrites(client)
    expect(await readFromImmediates(keys)).toEqual(keys)
    expect(counted.writes).toBe(1)
  })

  it('hits started in separate callbacks of one loop turn share one GETEX and one MGET', async () => {
    const keys = await primed()
    await concurrently(keys)
    const names: string[] = []
    const send = client.sendCommand.bind(client)
    client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      names.push(command.name)
      return (send as (...args: unknown[]) => unknown)(command, ...rest)
    }) as typeof client.sendCommand
    try {
      expect(await readFromImmediates(keys)).toEqual(keys)
      expect(names).toEqual(['getex', 'mget'])
    } finally {
      client.sendCommand = send
    }
  })

  /** Whether the hit's commands left before this turn's immediates ran. */
  async function sentBeforeImmediates(key: string): Promise<boolean> {
    const counted = countWrites(client)
    // Queued before the read starts, so it runs before a hold's release in the check phase.
    const before = new Promise<number>((resolve) => setImmediate(() => resolve(counted.writes)))
    const read = cache.wrap(key, async () => 'never', { tags })
    expect(await read).toBe(key)
    return (await before) > 0
  }

  it('a caller alone leaves at the end of the tick, and callers together wait for the immediates', async () => {
    const keys = await primed()
    await concurrently(keys)
    // The last batch had several readers: this one waits, in case more callers resume.
    expect(await sentBeforeImmediates(keys[0]!)).toBe(false)
    // That batch had one reader on an idle connection: nothing can join later in the turn.
    expect(await sentBeforeImmediates(keys[1]!)).toBe(true)
    expect(await sentBeforeImmediates(keys[2]!)).toBe(true)
    // Callers together again: the next ones after them wait for the immediates once more.
    await concurrently(keys)
    expect(await sentBeforeImmediates(keys[0]!)).toBe(false)
  })

  it('reads held for the turn when the connection drops still answer, and later reads hit again', async () => {
    // Reconnects, as a production client does (the suite's default gives up at once).
    const own = await connectRedis({ retryStrategy: () => 20 })
    const dropped = createCache({ namespace: unique(), bus: false, store: redisStore({ client: own }) })
    try {
      const keys = Array.from({ length: 3 }, () => unique())
      for (const key of keys) await dropped.wrap(key, async () => key, { tags })
      // Destroyed right after the store corks it: the reads' commands are held, not yet sent.
      const stream = (own as unknown as { stream: { cork(): void; destroy(): void } }).stream
      const cork = stream.cork.bind(stream)
      let destroyed = false
      stream.cork = () => {
        cork()
        stream.cork = cork
        queueMicrotask(() => {
          destroyed = true
          stream.destroy()
        })
      }
      const reads = keys.map((key) => dropped.wrap(key, async () => `loaded ${key}`, { tags }))
      const read = await Promise.all(reads)
      expect(destroyed).toBe(true)
      read.forEach((value, i) => {
        expect([keys[i], `loaded ${keys[i]}`]).toContain(value)
      })
      let hit = false
      for (let attempt = 0; attempt < 100 && !hit; attempt++) {
        const again = await dropped.wrapWithInfo(keys[0]!, async () => 'loaded again', { tags })
        hit = again.info.source === 'hit'
        if (!hit) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(hit).toBe(true)
    } finally {
      await dropped.close()
      own.disconnect()
    }
  })

  it('the lookups of concurrent misses in one tick leave together, and each gets its own value', async () => {
    const keys = Array.from({ length: 8 }, () => unique())
    const counted = countWrites(client)
    const read = await Promise.all(keys.map((key, i) => cache.wrap(key, async () => `v${i}`, { tags })))
    expect(read).toEqual(keys.map((_, i) => `v${i}`))
    // One write for the 8 lookups; the fills follow their loads, each at most one more.
    expect(counted.writes).toBeLessThanOrEqual(1 + keys.length)
    const again = await Promise.all(keys.map((key) => cache.wrap(key, async () => 'never', { tags })))
    expect(again).toEqual(keys.map((_, i) => `v${i}`))
  })
})
