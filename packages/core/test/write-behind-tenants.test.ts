import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type Cache,
  createCache,
  InvalidOptionError,
  type WriteBehind,
  type WriteBehindEvents,
  type WriteBehindItem,
  writeBehind,
} from '../src/exports/index.js'
import { type RedisStreamQueueOptions, redisStore, redisStreamQueue } from '../src/exports/redis.js'
import { unique } from './fixtures/write-behind-harness.js'
import { connectRedis, freePort, type OwnedServer, redisAnswers, startServer } from './support/services.js'

const MANUAL = 3_600_000

/**
 * Two tenants (caches with different namespaces) that each create
 * `redisStreamQueue({ client, name: 'views' })` used to share one stream: tenant A's flusher got
 * B's keys, and A's own write was dropped as superseded by B's write to the same key.
 */
describe('write-behind queues across tenants', () => {
  let client: Redis
  const opened: { close(): Promise<void> }[] = []
  beforeAll(async () => {
    client = await connectRedis()
  })
  afterAll(() => client?.disconnect())
  afterEach(async () => {
    for (const resource of opened.splice(0).reverse()) await resource.close()
  })

  const tenant = (namespace: string, queue: Partial<RedisStreamQueueOptions> = {}) => {
    const cache = createCache({ store: redisStore({ client }), namespace })
    const flushed: WriteBehindItem<string>[] = []
    const writer = writeBehind<string>({
      cache,
      queue: redisStreamQueue({ client, name: 'views', ...queue }),
      flush: (batch) => {
        flushed.push(...batch)
      },
      flushIntervalMs: MANUAL,
    })
    opened.push(cache, writer)
    return { cache, writer, flushed }
  }

  it('keeps each tenant in its own stream when both use the same queue name', async () => {
    const a = tenant(unique('tenant-a'))
    const b = tenant(unique('tenant-b'))
    await a.writer.write('page:1', 'A views')
    await b.writer.write('page:1', 'B views')
    await b.writer.write('page:2', 'B only')
    expect((await a.writer.flushNow()).flushed).toBe(1)
    expect((await b.writer.flushNow()).flushed).toBe(2)
    expect(a.flushed.map((item) => [item.key, item.value])).toEqual([['page:1', 'A views']])
    expect(b.flushed.map((item) => [item.key, item.value]).sort()).toEqual([
      ['page:1', 'B views'],
      ['page:2', 'B only'],
    ])
    expect(await a.writer.pending()).toBe(0)
    expect(await b.writer.pending()).toBe(0)
  })

  it('refuses an explicit namespace that differs from the cache namespace', () => {
    const cache: Cache = createCache({ store: redisStore({ client }), namespace: unique('tenant-c') })
    opened.push(cache)
    const attempt = () =>
      writeBehind({
        cache,
        queue: redisStreamQueue({ client, name: 'views', namespace: 'shared' }),
        flush: () => {},
        flushIntervalMs: MANUAL,
      })
    expect(attempt).toThrow(InvalidOptionError)
    expect(attempt).toThrow(/namespace.*shareAcrossNamespaces: true/)
  })

  it('shares one stream across namespaces only when asked to', async () => {
    const shared = unique('shared')
    const a = tenant(unique('tenant-d'), { namespace: shared, shareAcrossNamespaces: true })
    const b = tenant(unique('tenant-e'), { namespace: shared, shareAcrossNamespaces: true })
    await a.writer.write('k-a', 'from A')
    await b.writer.write('k-b', 'from B')
    // One stream: either flusher may take either tenant's write (the caller asked for that).
    expect(await a.writer.pending()).toBe(2)
    await a.writer.flushNow()
    await b.writer.flushNow()
    expect([...a.flushed, ...b.flushed].map((item) => item.key).sort()).toEqual(['k-a', 'k-b'])
  })
})

/**
 * The Redis Stream queue keeps acknowledged writes across a Redis crash only with AOF. The writer
 * asks once (`CONFIG GET appendonly`) and emits a `durability` event when it is off or cannot be
 * read. Each case runs its own throwaway Redis, never the shared one.
 */
describe('write-behind durability check', () => {
  let server: OwnedServer | undefined
  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  const durabilityOf = async (...args: string[]) => {
    const port = await freePort()
    server = await startServer(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...args],
      port,
      () => redisAnswers('127.0.0.1', port),
    )
    const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    const cache = createCache({ store: redisStore({ client }), namespace: unique('durable') })
    const events: WriteBehindEvents['durability'][] = []
    const queue = redisStreamQueue({ client, name: 'q' })
    const writer: WriteBehind<string> = writeBehind<string>({
      cache,
      queue,
      flush: () => {},
      flushIntervalMs: MANUAL,
    })
    writer.on('durability', (event) => events.push(event))
    try {
      await writer.write('k', 'v')
      // The writer asked in the background when the queue opened, on this same connection, so
      // its answer arrives before this one.
      const report = await queue.durability()
      await new Promise((resolve) => setTimeout(resolve, 50))
      return { events, report }
    } finally {
      await writer.close()
      await cache.close()
      client.disconnect()
    }
  }

  it('warns when AOF is off', async () => {
    const { events, report } = await durabilityOf('--appendonly', 'no')
    expect(report.persistence).toBe('none')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ persistence: 'none' })
    expect(events[0]!.message).toMatch(/appendonly yes/)
  })

  it('says so when CONFIG is not permitted', async () => {
    // Managed services rename or ACL-deny CONFIG; a renamed command answers "unknown command".
    const { events, report } = await durabilityOf(
      '--appendonly',
      'no',
      '--rename-command',
      'CONFIG',
      unique('config'),
    )
    expect(report.persistence).toBe('unknown')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ persistence: 'unknown' })
    expect(events[0]!.message).toMatch(/CONFIG GET appendonly could not be read/)
  })

  it('stays quiet with AOF on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ormcache-aof-'))
    try {
      const { events, report } = await durabilityOf(
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      )
      expect(report).toMatchObject({ persistence: 'aof', detail: 'AOF on (appendfsync always)' })
      expect(events).toHaveLength(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
