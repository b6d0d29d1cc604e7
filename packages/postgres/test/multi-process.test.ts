import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCache } from '@ormcache/core'
import { rowTag } from '@ormcache/core/adapter'
import { redisStore } from '@ormcache/core/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, databaseUrl, dropReplication, freshRowsTable, outside, until } from './support/db.js'

// Consumers and cached readers in separate processes sharing a Redis store: exactly one consumer
// streams, a standby takes over when it is killed with SIGKILL mid-stream, and after randomized
// outside writes every cached row equals the database (nothing the killed consumer had not
// acknowledged was lost).
const SLOT = 'ormcache_test_mp'
const TABLE = 'pgi_mp'
const ROWS = 30
const NAMESPACE = `pg-mp-${process.pid}`
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const children = new Set<ChildProcess>()
const cache = createCache({ namespace: NAMESPACE, store: redisStore({ url: REDIS_URL }), bus: false })

interface Worker {
  child: ChildProcess
  lines: Record<string, unknown>[]
}

function startWorker(role: 'consumer' | 'reader'): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./support/worker.ts')], {
    cwd: here('..'),
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: here('./support/tsconfig.worker.json'),
      ORMCACHE_ROLE: role,
      ORMCACHE_NAMESPACE: NAMESPACE,
      ORMCACHE_TABLE: TABLE,
      ORMCACHE_ROWS: String(ROWS),
      ORMCACHE_SLOT: SLOT,
      ORMCACHE_PG_URL: databaseUrl(),
      ORMCACHE_REDIS_URL: REDIS_URL,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.add(child)
  child.on('exit', () => children.delete(child))
  const worker: Worker = { child, lines: [] }
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop()!
    for (const line of parts) if (line.trim()) worker.lines.push(JSON.parse(line))
  })
  return worker
}

const state = (worker: Worker) => worker.lines.filter((l) => 'state' in l).at(-1)?.state
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())))

/** Random single-row updates from an outside connection for `ms`, some in multi-row transactions. */
async function randomWrites(ms: number, seed: number): Promise<number> {
  const db = await connect()
  let writes = 0
  const deadline = Date.now() + ms
  let state = seed
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state
  }
  try {
    while (Date.now() < deadline) {
      const id = 1 + (next() % ROWS)
      if (next() % 4 === 0) {
        await db.query(
          `BEGIN; UPDATE ${TABLE} SET v = v + 1 WHERE id = ${id}; UPDATE ${TABLE} SET v = v + 1 WHERE id = ${1 + (next() % ROWS)}; COMMIT`,
        )
      } else await db.query(`UPDATE ${TABLE} SET v = v + 1 WHERE id = $1`, [id])
      writes += 1
      await new Promise((r) => setTimeout(r, 2))
    }
  } finally {
    await db.end()
  }
  return writes
}

/** Waits until the slot acknowledged everything written so far, then compares cache and database. */
async function expectCacheEqualsDatabase(): Promise<void> {
  const { rows: lsn } = await outside('SELECT pg_current_wal_lsn()::text AS lsn')
  await until(
    async () =>
      (
        await outside(
          'SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $2',
          [lsn[0].lsn, SLOT],
        )
      ).rows[0]?.done === true,
    20_000,
    'the consumer to acknowledge every write',
  )
  const { rows } = await outside(`SELECT id, v FROM ${TABLE} ORDER BY id`)
  const stale: string[] = []
  for (const { id, v } of rows) {
    let loaded = false
    const cached = await cache.wrap(
      `row:${id}`,
      async () => {
        loaded = true
        return v
      },
      { tags: [rowTag(TABLE, { id })] },
    )
    if (cached !== v) stale.push(`row ${id}: cache ${cached}, database ${v}${loaded ? '' : ' (cached)'}`)
  }
  expect(stale).toEqual([])
}

beforeAll(async () => {
  await freshRowsTable(SLOT, TABLE, ROWS)
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await dropReplication(SLOT, SLOT)
  await cache.clear()
  await cache.close()
})

describe('several processes', () => {
  it('one consumer streams, a standby takes over after kill -9, and the cache ends equal to the database', async () => {
    const first = startWorker('consumer')
    await until(() => state(first) === 'active', 30_000, 'the first consumer to become active')
    const second = startWorker('consumer')
    await until(() => state(second) === 'standby', 30_000, 'the second consumer to stand by')
    const readers = [startWorker('reader'), startWorker('reader')]
    await until(() => readers.every((r) => state(r) === 'reading'), 30_000, 'the readers')

    // Mid-stream: the active consumer dies while outside writes keep coming.
    const writing = randomWrites(2_500, 1)
    await new Promise((r) => setTimeout(r, 1_000))
    first.child.kill('SIGKILL')
    const killedAt = performance.now()
    await exited(first.child)
    await until(() => state(second) === 'active', 15_000, 'the standby to take over')
    const takeover = performance.now() - killedAt
    const writes = await writing
    console.log(`takeover ${takeover.toFixed(0)} ms after SIGKILL; ${writes} outside write transactions`)
    expect(first.lines.some((l) => 'applied' in l)).toBe(true) // it really was mid-stream
    for (const reader of readers) reader.child.kill('SIGTERM')
    await Promise.all(readers.map((r) => exited(r.child)))
    const reads = readers.map((r) => r.lines.at(-1) as { reads: number; hits: number })
    expect(reads.every((r) => r.reads > 0)).toBe(true)
    await expectCacheEqualsDatabase()

    // Restart after a clean stop: the new consumer resumes from the slot.
    second.child.kill('SIGTERM')
    await exited(second.child)
    const third = startWorker('consumer')
    await until(() => state(third) === 'active', 30_000, 'the restarted consumer')
    const moreReaders = [startWorker('reader'), startWorker('reader')]
    await until(() => moreReaders.every((r) => state(r) === 'reading'), 30_000, 'the readers')
    await randomWrites(1_500, 2)
    for (const reader of moreReaders) reader.child.kill('SIGTERM')
    await Promise.all(moreReaders.map((r) => exited(r.child)))
    expect(moreReaders.every((r) => (r.lines.at(-1) as { reads: number }).reads > 0)).toBe(true)
    await expectCacheEqualsDatabase()
    expect(third.lines.filter((l) => 'error' in l)).toEqual([])
    third.child.kill('SIGTERM')
    await exited(third.child)
  })
})
