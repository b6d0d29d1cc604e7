// CPU and heap allocation per L2 Redis hit: ormcache vs the bare ioredis floor (GET + JSON.parse),
// same payload, keys and tags as the store scenario (bench/src/scenarios/store-hit.ts), measured
// in one process against the local Redis, interleaved round by round so that machine noise hits
// both alike. Deterministic enough to decide a change on, unlike wall-clock ops/s on a shared box.
//
//   node --import tsx --expose-gc bench/src/tools/hit-cpu.mjs [ops per round=50000] [rounds=3] [concurrency=1,64]
//
// cpu µs/op: process.cpuUsage (user + system) over the round / ops.
// alloc B/op: heap growth over a short window with young-generation GC held off (large semi-space),
//   checked by a GC observer; rounds where a GC ran are reported as such.
// FLOOR_AP=0: the floor's client without auto-pipelining (each GET written at once), the cheaper
//   floor at 1 caller and the dearer one at 64.
import { randomBytes } from 'node:crypto'
import { PerformanceObserver } from 'node:perf_hooks'
import { createCache } from '@ormcache/core'
import { bulkTag, rowTag } from '@ormcache/core/adapter'
import { redisStore } from '@ormcache/core/redis'
import { Redis } from 'ioredis'
import { removeRunKeys } from '../cleanup.js'
import { payloadFor } from '../payload.js'

const N = Number(process.argv[2] ?? 50_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const CONCURRENCY = (process.argv[4] ?? '1,64').split(',').map(Number)
const ONLY = process.env.ONLY // 'floor' | 'ormcache'
const KEYS = 100
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `hitcpu-${randomBytes(4).toString('hex')}`

const tagsFor = (id) => [rowTag('bench_user', { id }), bulkTag('bench_user')]

const floorClient = new Redis(url, { enableAutoPipelining: process.env.FLOOR_AP !== '0' })
const floor = async (key, _tags, load) => {
  const raw = await floorClient.get(`${prefix}.floor:${key}`)
  if (raw !== null) return JSON.parse(raw)
  const value = await load()
  await floorClient.set(`${prefix}.floor:${key}`, JSON.stringify(value), 'PX', 600_000)
  return value
}
const cache = createCache({
  namespace: `${prefix}.orm`,
  ttl: 600_000,
  tagTtl: 15 * 60_000,
  store: redisStore({ url }),
})
const ormcache = (key, tags, load) => cache.wrap(key, load, { tags })

let misses = 0
const missLoad = async () => {
  misses++
  return payloadFor(0)
}
async function prime(read) {
  for (let id = 0; id < KEYS; id++) await read(`user:${id}`, tagsFor(id), async () => payloadFor(id))
  for (let id = 0; id < KEYS; id++) await read(`user:${id}`, tagsFor(id), missLoad)
}
const TAGS = Array.from({ length: KEYS }, (_, id) => tagsFor(id))
const KEYNAMES = Array.from({ length: KEYS }, (_, id) => `user:${id}`)

async function drive(read, ops, concurrency) {
  let next = 0
  const worker = async () => {
    while (next < ops) {
      const i = next++
      const id = i % KEYS
      await read(KEYNAMES[id], TAGS[id], missLoad)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

let gcs = 0
new PerformanceObserver((list) => {
  gcs += list.getEntries().length
}).observe({ entryTypes: ['gc'] })

async function cpuPerOp(read, concurrency) {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await drive(read, N, concurrency)
  const t = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { cpu: (c.user + c.system) / N, wall: (t * 1000) / N }
}

async function allocPerOp(read, concurrency) {
  const ops = 2_000
  await drive(read, 200, concurrency)
  globalThis.gc()
  await new Promise((r) => setTimeout(r, 5))
  const g0 = gcs
  const h0 = process.memoryUsage().heapUsed
  await drive(read, ops, concurrency)
  const h1 = process.memoryUsage().heapUsed
  await new Promise((r) => setTimeout(r, 0))
  return { bytes: (h1 - h0) / ops, clean: gcs === g0 }
}

await floorClient.ping()
await prime(floor)
await prime(ormcache)
if (misses !== 0) throw new Error('priming missed')
const subjects = [
  ['floor', floor],
  ['ormcache', ormcache],
].filter(([name]) => ONLY === undefined || ONLY === name)
// Warm up the JIT.
for (const [, read] of subjects) for (const c of CONCURRENCY) await drive(read, 20_000, c)

const results = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const c of CONCURRENCY) {
    for (const [name, read] of subjects) {
      const { cpu, wall } = await cpuPerOp(read, c)
      const { bytes, clean } = await allocPerOp(read, c)
      const list = results[`${name}@${c}`] ?? []
      results[`${name}@${c}`] = list
      list.push({ cpu, wall, bytes, clean })
    }
  }
}
if (misses !== 0) throw new Error(`${misses} misses while measuring`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = {}
for (const [k, rs] of Object.entries(results)) {
  rows[k] = {
    'cpu µs/op': median(rs.map((r) => r.cpu)).toFixed(2),
    'cpu runs': rs.map((r) => r.cpu.toFixed(1)).join(' '),
    'wall µs/op': median(rs.map((r) => r.wall)).toFixed(2),
    'alloc B/op': median(rs.map((r) => r.bytes)).toFixed(0),
    'no gc': rs.every((r) => r.clean),
  }
}
console.table(rows)
if (subjects.length === 2)
  for (const c of CONCURRENCY) {
    const ratio = (f) => median(results[`ormcache@${c}`].map(f)) / median(results[`floor@${c}`].map(f))
    console.log(
      `@${c}: cpu ratio ${ratio((r) => r.cpu).toFixed(3)}  wall ratio ${ratio((r) => r.wall).toFixed(3)}`,
    )
  }
await cache.close()
await floorClient.quit()
// The keys both subjects left (the bench and other tools measure on this server).
await removeRunKeys(prefix)
