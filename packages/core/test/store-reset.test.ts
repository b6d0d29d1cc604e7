import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type Cache,
  createCache,
  type OrmCacheError,
  StoreResetError,
  UndeliveredInvalidationsError,
} from '../src/exports/index.js'
import { memcachedStore } from '../src/exports/memcached.js'
import { redisStore } from '../src/exports/redis.js'
import {
  freePort,
  memcachedAnswers,
  type OwnedServer,
  redisAnswers,
  startServer,
  unreachable,
} from './support/services.js'

/**
 * Stores that come back with older data than they acknowledged (issue 13, item 1): a Redis
 * restarted from its RDB snapshot, and a replica promoted before it caught up. Both roll tag
 * versions back together with the entries written under them, so without detection the old
 * entries are current again. Every server here is this file's own process, killed by its pid.
 */
const dir = mkdtempSync(join(tmpdir(), 'ormcache-reset-'))
const owned: OwnedServer[] = []
afterAll(async () => {
  for (const server of owned) await server.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function startRedis(port: number, ...extra: string[]): Promise<OwnedServer> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra]
  const server = await startServer('redis-server', args, port, () => redisAnswers('127.0.0.1', port)).catch(
    (error: unknown) => {
      throw unreachable('redis-server (binary, for a private test server)', `127.0.0.1:${port}`, error)
    },
  )
  owned.push(server)
  return server
}

function kill9(server: OwnedServer): Promise<void> {
  return new Promise((resolve) => {
    if (server.process.exitCode !== null || server.process.signalCode !== null) return resolve()
    server.process.once('exit', () => resolve())
    server.process.kill('SIGKILL')
  })
}

const resilience = {
  timeouts: { read: 200, write: 200 },
  circuitBreaker: { failureThreshold: 2, resetAfterMs: 50 },
  // No grace after an outage: the store is trusted again as soon as it answers, so only the
  // lineage check stands between a restored snapshot and a stale hit.
  recoveryGrace: 0,
} as const

const ROWS = 5

/** A tiny "database" and the reads a user makes of it. */
function rows() {
  const db = new Array<number>(ROWS).fill(1)
  const read = (cache: Cache, i: number) =>
    cache.wrapWithInfo(`row:${i}`, async () => db[i]!, { tags: [`row:${i}`] })
  /** Reads every row `rounds` times through each cache; counts stale values and hits. */
  const sweep = async (caches: Cache[], rounds: number) => {
    let stale = 0
    let hits = 0
    for (let round = 0; round < rounds; round++) {
      for (const cache of caches) {
        for (let i = 0; i < ROWS; i++) {
          const { value, info } = await read(cache, i)
          if (value !== db[i]) stale++
          if (info.source === 'hit') hits++
        }
      }
    }
    return { stale, hits }
  }
  return { db, read, sweep }
}

function errorsOf(cache: Cache): OrmCacheError[] {
  const seen: OrmCacheError[] = []
  cache.on('error', ({ error }) => seen.push(error))
  return seen
}

/** Reads until every cache is back on the store (hits again), at most ~5 s. */
async function untilHits(
  sweep: (caches: Cache[], rounds: number) => Promise<{ stale: number; hits: number }>,
  caches: Cache[],
) {
  let stale = 0
  let hits = 0
  for (let i = 0; i < 100 && hits < caches.length * ROWS; i++) {
    const round = await sweep(caches, 1)
    stale += round.stale
    hits = round.hits
    if (hits < caches.length * ROWS) await sleep(50)
  }
  return { stale, hits }
}

describe('Redis restarted from an RDB snapshot', () => {
  it('serves 0 stale values after SAVE, invalidate, kill -9 and restart, in a surviving and a new process', async () => {
    const port = await freePort()
    const data = mkdtempSync(join(dir, 'rdb-'))
    let server = await startRedis(port, '--dir', data)
    const url = `redis://127.0.0.1:${port}`
    const raw = new Redis(url).on('error', () => {})
    const survivor = createCache({ store: redisStore({ url }), namespace: 'reset13', ...resilience })
    const errors = errorsOf(survivor)
    const { db, sweep } = rows()
    try {
      expect((await sweep([survivor], 2)).hits).toBe(ROWS)
      const before = await raw.get('reset13:t:row:0')
      await raw.save()
      for (let i = 0; i < ROWS; i++) {
        db[i] = 2
        await survivor.invalidateTags([`row:${i}`])
      }
      expect(await raw.get('reset13:t:row:0')).not.toBe(before)

      await kill9(server)
      server = await startRedis(port, '--dir', data)
      // The snapshot brought the old tag version (and the entries written under it) back.
      expect(await raw.get('reset13:t:row:0')).toBe(before)

      const fresh = createCache({ store: redisStore({ url }), namespace: 'reset13', ...resilience })
      const freshErrors = errorsOf(fresh)
      const back = await untilHits(sweep, [survivor, fresh])
      const after = await sweep([survivor, fresh], 20)
      expect(back.stale + after.stale).toBe(0)
      expect(after.hits).toBe(2 * ROWS * 20)
      const resets = [...errors, ...freshErrors].filter((e) => e instanceof StoreResetError)
      expect(resets.length).toBeGreaterThanOrEqual(1)
      await fresh.close()
    } finally {
      raw.disconnect()
      await survivor.close()
      await kill9(server)
    }
  })
})

describe('a replica promoted before it caught up', () => {
  it('serves 0 stale values from the promoted replica', async () => {
    const [masterPort, replicaPort] = [await freePort(), await freePort()]
    const master = await startRedis(masterPort)
    const replica = await startRedis(replicaPort, '--replicaof', '127.0.0.1', String(masterPort))
    const rawMaster = new Redis(masterPort, '127.0.0.1').on('error', () => {})
    const rawReplica = new Redis(replicaPort, '127.0.0.1').on('error', () => {})
    const writer = createCache({
      store: redisStore({ url: `redis://127.0.0.1:${masterPort}` }),
      namespace: 'promote13',
      ...resilience,
    })
    const { db, sweep } = rows()
    try {
      for (let i = 0; i < 100 && !/master_link_status:up/.test(await rawReplica.info('replication')); i++)
        await sleep(50)
      expect((await sweep([writer], 2)).hits).toBe(ROWS)
      expect(await rawMaster.wait(1, 2_000)).toBe(1)
      const before = await rawReplica.get('promote13:t:row:0')
      expect(before).not.toBeNull()

      // The replica loses its link and cannot re-establish it (its AUTH fails the handshake);
      // the master acknowledges the invalidations and dies.
      await rawReplica.config('SET', 'masterauth', 'not-the-password')
      await rawReplica.client('KILL', 'TYPE', 'master')
      for (let i = 0; i < ROWS; i++) {
        db[i] = 2
        await writer.invalidateTags([`row:${i}`])
      }
      await kill9(master)
      await rawReplica.replicaof('NO', 'ONE')
      expect(await rawReplica.get('promote13:t:row:0')).toBe(before)

      const promoted = createCache({
        store: redisStore({ url: `redis://127.0.0.1:${replicaPort}` }),
        namespace: 'promote13',
        ...resilience,
      })
      const errors = errorsOf(promoted)
      const back = await untilHits(sweep, [promoted])
      const after = await sweep([promoted], 20)
      expect(back.stale + after.stale).toBe(0)
      expect(after.hits).toBe(ROWS * 20)
      expect(errors.some((e) => e instanceof StoreResetError)).toBe(true)
      await promoted.close()
    } finally {
      rawMaster.disconnect()
      rawReplica.disconnect()
      await writer.close()
      await kill9(master)
      await kill9(replica)
    }
  })
})

describe('close() while Redis is down, then Redis restarts from its snapshot (issue 13, item 2)', () => {
  it('reports the undelivered invalidations, and no process serves the old values after the restart', async () => {
    const port = await freePort()
    const data = mkdtempSync(join(dir, 'close-'))
    let server = await startRedis(port, '--dir', data)
    const url = `redis://127.0.0.1:${port}`
    const raw = new Redis(url).on('error', () => {})
    const writer = createCache({ store: redisStore({ url }), namespace: 'close13r', ...resilience })
    const reader = createCache({ store: redisStore({ url }), namespace: 'close13r', ...resilience })
    const writerErrors = errorsOf(writer)
    const { db, sweep } = rows()
    try {
      expect((await sweep([reader], 2)).hits).toBe(ROWS)
      await raw.save()
      await kill9(server)
      for (let i = 0; i < ROWS; i++) {
        db[i] = 2
        await writer.invalidateTags([`row:${i}`])
      }
      await writer.close()
      const lost = writerErrors.find((e) => e instanceof UndeliveredInvalidationsError) as
        | UndeliveredInvalidationsError
        | undefined
      expect(lost?.tags.length).toBe(ROWS)

      server = await startRedis(port, '--dir', data)
      const restarted = createCache({ store: redisStore({ url }), namespace: 'close13r', ...resilience })
      const back = await untilHits(sweep, [reader, restarted])
      const after = await sweep([reader, restarted], 20)
      expect(back.stale + after.stale).toBe(0)
      expect(after.hits).toBe(2 * ROWS * 20)
      await restarted.close()
    } finally {
      raw.disconnect()
      await reader.close()
      await kill9(server)
    }
  })
})

describe('Memcached restarted', () => {
  it('comes back empty: 0 stale values, and nothing to detect', async () => {
    const port = await freePort()
    const start = () =>
      startServer(
        'memcached',
        [
          ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
          '-l',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          '0',
        ],
        port,
        () => memcachedAnswers('127.0.0.1', port),
      ).catch((error: unknown) => {
        throw unreachable('memcached (binary, for a private test server)', `127.0.0.1:${port}`, error)
      })
    let server = await start()
    owned.push(server)
    const cache = createCache({
      store: memcachedStore({ servers: `127.0.0.1:${port}` }),
      namespace: 'mc13',
      ...resilience,
    })
    const errors = errorsOf(cache)
    const { db, sweep } = rows()
    try {
      expect((await sweep([cache], 2)).hits).toBe(ROWS)
      await kill9(server)
      for (let i = 0; i < ROWS; i++) db[i] = 2
      server = await start()
      owned.push(server)
      const back = await untilHits(sweep, [cache])
      const after = await sweep([cache], 10)
      expect(back.stale + after.stale).toBe(0)
      expect(after.hits).toBe(ROWS * 10)
      expect(errors.some((e) => e instanceof StoreResetError)).toBe(false)
    } finally {
      await cache.close()
      await kill9(server)
    }
  })
})
