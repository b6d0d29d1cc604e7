import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { memcachedServers, redisUrl } from '../config.js'
import { prepareDatabase } from '../db/schema.js'
import type { Table } from '../report/types.js'
import type { KvSubject } from '../subjects/kv.js'
import type { OrmSubject } from '../subjects/orm.js'
import { KV_SUBJECTS, ORM_SUBJECTS } from '../subjects/registry.js'
import { requireServices } from '../subjects/requirements.js'
import type { Scenario } from './types.js'

/** Deployment distances of the latency model (issue 12): a managed cache, a managed database. */
const CACHE_RTT_MS = 0.2
const DB_RTT_MS = [1, 5] as const
/** Lets fire-and-forget work of an operation (lease releases, publishes) reach the servers. */
const SETTLE_MS = 50

interface Counts {
  store: number
  db: number
}

type Operation = 'miss' | 'hit' | 'write' | 'miss after write'
const OPERATIONS: readonly Operation[] = ['miss', 'hit', 'write', 'miss after write']

/**
 * Store commands and database statements per operation, counted (never timed) for every library:
 * Redis commands clients sent (MONITOR), Memcached requests from `stats` deltas, database
 * statements from the counting pg client (ORM subjects) or loader runs (core subjects). One caller,
 * one key, nothing else running (the run holds the bench lock).
 */
export const roundTripsScenario: Scenario = {
  id: 'roundtrips',
  title: '7. Round trips per operation',
  async run(ctx) {
    await requireServices(['redis', 'memcached', 'postgres'])
    const counters = await openCounters()
    const database = await prepareDatabase()
    const rows: { label: string; library: string; counts: Record<Operation, Counts> }[] = []
    try {
      for (const factory of KV_SUBJECTS) {
        ctx.progress.step(`count ${factory.label}`)
        const subject = await factory.create(`${ctx.prefix}.rt.${factory.id}`)
        try {
          rows.push({
            label: factory.label,
            library: factory.library,
            counts: await countKv(subject, counters),
          })
        } finally {
          await subject.close().catch(() => {})
        }
      }
      for (const factory of ORM_SUBJECTS) {
        ctx.progress.step(`count ${factory.label}`)
        const subject = await factory.create(`${ctx.prefix}.rt.${factory.id}`, database.url)
        try {
          rows.push({
            label: factory.label,
            library: factory.library,
            counts: await countOrm(subject, counters),
          })
        } finally {
          await subject.close().catch(() => {})
        }
      }
    } finally {
      await database.release()
      counters.close()
    }
    const modelled = (c: Counts, db: number) => `${(c.store * CACHE_RTT_MS + c.db * db).toFixed(1)} ms`
    const tables: Table[] = [
      {
        title: 'Store commands / database statements per operation',
        columns: ['library', ...OPERATIONS],
        rows: rows.map((r) => [
          r.label,
          ...OPERATIONS.map((op) => `${r.counts[op].store} / ${r.counts[op].db}`),
        ]),
      },
      ...DB_RTT_MS.map((db) => ({
        title: `Modelled latency per operation: cache ${CACHE_RTT_MS} ms RTT, database ${db} ms RTT`,
        columns: ['library', ...OPERATIONS],
        rows: rows.map((r) => [r.label, ...OPERATIONS.map((op) => modelled(r.counts[op], db))]),
      })),
    ]
    return {
      id: 'roundtrips',
      title: '7. Round trips per operation',
      method:
        'One caller, one key (core subjects) or one user row (ORM subjects): a cold read (miss), the same read ' +
        "again (hit), a write (core: the library's invalidation call; ORM: update of that user), then the read " +
        'again (miss after write). Store commands are the Redis commands clients sent (MONITOR, without the commands ' +
        'Lua scripts run inside Redis) plus Memcached `stats` deltas (get/set/delete/touch requests); database statements are what the counting pg client sent ' +
        '(ORM) or loader runs (core). Counted, not timed. The model charges every store command one cache round ' +
        `trip (${CACHE_RTT_MS} ms) and every statement one database round trip.`,
      tables,
      notes: [
        'A command is not always a sequential round trip: commands sent together (per-slot batches, ' +
          'pipelines, parallel gets) share one, so the model overstates libraries that parallelize. ormcache on ' +
          'Redis sends one script per round trip, except for the hit of a key it expects to hit: a GETEX and an ' +
          'MGET written together (one socket write, one round trip), counted here as 2 commands.',
        'Memcached counts a multi-get per key (GETKQ), so the Memcached rows count keys read, not round trips.',
        'ORM writes include the statements the ORM itself sends around an update (transaction, RETURNING or ' +
          're-select), identical for every caching library on the same ORM.',
      ],
      data: rows,
    }
  },
}

async function countKv(subject: KvSubject, counters: Counters): Promise<Record<Operation, Counts>> {
  const key = 'rt:user:1'
  const tags = ['users', 'user:1']
  let loads = 0
  const load = async () => {
    loads += 1
    return { id: 1, name: 'one', version: loads }
  }
  // Warm the client (connections, scripts) on another key first.
  await subject.read('rt:warm', tags, load)
  await subject.invalidate('rt:warm', tags)
  await subject.read('rt:warm', tags, load)
  const out = {} as Record<Operation, Counts>
  for (const op of OPERATIONS) {
    const before = loads
    const store = await counters.during(() =>
      op === 'write' ? subject.invalidate(key, tags) : subject.read(key, tags, load),
    )
    out[op] = { store, db: loads - before }
  }
  return out
}

async function countOrm(subject: OrmSubject, counters: Counters): Promise<Record<Operation, Counts>> {
  await subject.findUser(2)
  await subject.updateUser(2)
  await subject.findUser(2)
  const out = {} as Record<Operation, Counts>
  for (const op of OPERATIONS) {
    const before = subject.queries.total
    const store = await counters.during(() => (op === 'write' ? subject.updateUser(1) : subject.findUser(1)))
    out[op] = { store, db: subject.queries.total - before }
  }
  return out
}

interface Counters {
  during(run: () => Promise<unknown>): Promise<number>
  close(): void
}

/**
 * Redis: MONITOR, counting the commands clients sent and skipping those a Lua script ran (source
 * "lua"): INFO commandstats would count every redis.call inside a script as a command, though the
 * client sent one EVALSHA. Memcached: `stats` deltas.
 */
async function openCounters(): Promise<Counters> {
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  const monitor = await admin.monitor()
  let redisCalls = 0
  monitor.on('monitor', (_time: string, _args: string[], source: string) => {
    if (source !== 'lua') redisCalls += 1
  })
  const memcachedCalls = async () => {
    let calls = 0
    for (const server of memcachedServers) calls += await memcachedRequests(server)
    return calls
  }
  return {
    async during(run) {
      await sleep(SETTLE_MS)
      const redisBefore = redisCalls
      const memcachedBefore = await memcachedCalls()
      await run()
      await sleep(SETTLE_MS)
      return redisCalls - redisBefore + (await memcachedCalls()) - memcachedBefore
    },
    close: () => {
      monitor.disconnect()
      admin.disconnect()
    },
  }
}

const MEMCACHED_COUNTERS = ['cmd_get', 'cmd_set', 'cmd_touch', 'delete_hits', 'delete_misses']

/** get/set/touch/delete requests a memcached server has served (its text `stats`). */
function memcachedRequests(server: string): Promise<number> {
  const [host = '127.0.0.1', port = '11211'] = server.split(':')
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) })
    let text = ''
    socket.setTimeout(3_000, () => socket.destroy(new Error('memcached stats timed out')))
    socket.on('connect', () => socket.write('stats\r\n'))
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8')
      if (!text.includes('END\r\n')) return
      socket.end()
      let calls = 0
      for (const name of MEMCACHED_COUNTERS) {
        const value = new RegExp(`^STAT ${name} (\\d+)`, 'm').exec(text)?.[1]
        calls += Number(value ?? 0)
      }
      resolve(calls)
    })
    socket.on('error', reject)
  })
}
