// JS CPU of an ormcache L2 Redis hit without the network: after priming on the local Redis, the
// hit batch's client (redis-hit-batch.ts) is replaced by one that answers GETEX/MGET from a
// snapshot of the same keys, asynchronously like a socket reply would. Measures what ormcache's
// own code costs per hit (ns/op and heap bytes/op), against the floor's own work on the same
// string (JSON.parse), so code changes can be compared without network noise.
//
//   node --import tsx --expose-gc --max-semi-space-size=64 bench/src/tools/hit-js.mjs [ops=200000] [rounds=5]
import { randomBytes } from 'node:crypto'
import { createCache } from '@ormcache/core'
import { bulkTag, rowTag } from '@ormcache/core/adapter'
import { redisStore } from '@ormcache/core/redis'
import { Redis } from 'ioredis'
import { removeRunKeys } from '../cleanup.js'
import { payloadFor } from '../payload.js'

const N = Number(process.argv[2] ?? 200_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const KEYS = 100
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `hitjs-${randomBytes(4).toString('hex')}`
const TAGS = Array.from({ length: KEYS }, (_, id) => [rowTag('bench_user', { id }), bulkTag('bench_user')])
const NAMES = Array.from({ length: KEYS }, (_, id) => `user:${id}`)
const cache = createCache({
  namespace: prefix,
  ttl: 600_000,
  tagTtl: 15 * 60_000,
  store: redisStore({ url }),
})
let misses = 0
const missLoad = async () => {
  misses++
  return payloadFor(0)
}
for (let id = 0; id < KEYS; id++) await cache.wrap(NAMES[id], async () => payloadFor(id), { tags: TAGS[id] })
for (let id = 0; id < KEYS; id++) await cache.wrap(NAMES[id], missLoad, { tags: TAGS[id] })
// A third pass: keys that hit before are read with the plain hit read (read-path/plain-hit.ts).
for (let id = 0; id < KEYS; id++) await cache.wrap(NAMES[id], missLoad, { tags: TAGS[id] })
if (misses) throw new Error('priming missed')

const store = cache.ctx.store.inner
const real = store.hits.client
const snapshot = new Map()
const scan = new Redis(url)
for (const key of await scan.keys(`${prefix}*`)) snapshot.set(key, Buffer.from(await scan.getBuffer(key)))
await scan.quit()
// Bytes per reply, as the Redis parser gets them; the command turns them into strings.
const buf = (key) => (snapshot.has(key) ? Buffer.from(snapshot.get(key)) : null)
const fake = {
  // The hit batch writes its GETEX and MGET with sendCommand (redis-direct.ts); answered here from
  // the snapshot as raw bytes, which the command turns into strings as it would a socket reply.
  options: {},
  sendCommand(command) {
    const { name, args } = command
    setImmediate(() => command.resolve(name === 'getex' ? buf(args[0]) : args.map(buf)))
  },
}
store.hits.client = fake

const entryKey = [...snapshot.keys()].find((k) => k.includes(':e:user:7'))
// The floor parses the entry's data line (the third; a fourth holds the codec's meta, if any).
const floorRead = () =>
  new Promise((r) => setImmediate(() => r(snapshot.get(entryKey).toString()))).then((raw) => {
    const data = raw.indexOf('\n', raw.indexOf('\n') + 1) + 1
    const end = raw.indexOf('\n', data)
    return JSON.parse(end === -1 ? raw.slice(data) : raw.slice(data, end))
  })

async function drive(read, ops, concurrency) {
  let next = 0
  const worker = async () => {
    while (next < ops) {
      const id = next++ % KEYS
      await read(id)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}
const subjects = {
  floor: () => floorRead(),
  ormcache: (id) => cache.wrap(NAMES[id], missLoad, { tags: TAGS[id] }),
}
async function measure(read, c) {
  const c0 = process.cpuUsage()
  await drive(read, N, c)
  const u = process.cpuUsage(c0)
  globalThis.gc()
  const h0 = process.memoryUsage().heapUsed
  await drive(read, 5000, c)
  const h1 = process.memoryUsage().heapUsed
  return { cpu: ((u.user + u.system) * 1000) / N, bytes: (h1 - h0) / 5000 }
}
for (const c of [1, 64]) for (const read of Object.values(subjects)) await drive(read, 50_000, c)
const out = {}
for (let r = 0; r < ROUNDS; r++)
  for (const c of [1, 64])
    for (const [name, read] of Object.entries(subjects)) {
      const list = out[`${name}@${c}`] ?? []
      out[`${name}@${c}`] = list
      list.push(await measure(read, c))
    }
if (misses) throw new Error(`${misses} misses`)
const min = (xs) => Math.min(...xs)
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = {}
for (const [k, rs] of Object.entries(out))
  rows[k] = {
    'ns/op min': min(rs.map((r) => r.cpu)).toFixed(0),
    'ns/op med': med(rs.map((r) => r.cpu)).toFixed(0),
    'B/op': med(rs.map((r) => r.bytes)).toFixed(0),
  }
console.table(rows)
store.hits.client = real
await cache.close()
await removeRunKeys(prefix)
