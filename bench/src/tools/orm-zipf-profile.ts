/**
 * Per-operation cost of the Zipf subjects of both ORMs (issue #12), counted rather than timed:
 * store commands (as ioredis sends them), SQL statements, this process's CPU and the CPU of the
 * Redis and Postgres servers per op, for the hit of the by-id read, the hit of the team list, and
 * the mixed sequences. Throughput on a shared box is bound by the sum of all three.
 *
 *   node --import tsx src/tools/orm-zipf-profile.ts [subject-id ...] [--ops N] [--profile phase [--heap]] [--scripts]
 *
 * --profile writes a CPU profile of each phase it names (e.g. `mix-100/0,mix-95/5`) per subject to /tmp;
 * with --heap, an allocation sampling profile of it instead.
 *
 * Run under the shared lock; add --cpu-prof to node for a profile. Not part of the suite.
 */

import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { Socket } from 'node:net'
import { Readable } from 'node:stream'
import { setImmediate } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { removeRunKeys } from '../cleanup.js'
import { redisUrl } from '../config.js'
import { postsOf, prepareDatabase, teamOf, USERS } from '../db/schema.js'
import { cpuSince, readCpu } from '../runner/cpu.js'
import { seededRandom, zipf } from '../runner/random.js'
import type { OrmSubject } from '../subjects/orm.js'
import { PRISMA_SUBJECTS } from '../subjects/prisma.js'
import { TYPEORM_SUBJECTS } from '../subjects/typeorm.js'

const args = process.argv.slice(2)
const opsAt = args.indexOf('--ops')
const OPS = opsAt === -1 ? 4000 : Number(args[opsAt + 1])
const profileAt = args.indexOf('--profile')
/** Comma-separated phases, e.g. `mix-100/0,mix-95/5`: one profile file per phase. */
const PROFILE = profileAt === -1 ? [] : args[profileAt + 1]!.split(',')
/** With --heap, the profiled phase is sampled for allocations (a .heapprofile) instead of CPU. */
const HEAP = args.includes('--heap')
/**
 * --slowlog phase: Redis's own execution time per command during that phase, from SLOWLOG with a
 * zero threshold (scripts named and split by key count, as --scripts does). It is the server's
 * time inside each command, without parsing and socket I/O.
 */
const slowlogAt = args.indexOf('--slowlog')
const SLOWLOG = slowlogAt === -1 ? undefined : args[slowlogAt + 1]
const wanted = args.filter(
  (a, i) =>
    !a.startsWith('--') &&
    i !== opsAt + 1 &&
    (profileAt === -1 || i !== profileAt + 1) &&
    (slowlogAt === -1 || i !== slowlogAt + 1),
)
const CONCURRENCY = 16

type Op = () => Promise<unknown>

/**
 * Commands this process sent, counted in ioredis (both caches use it). INFO commandstats and
 * MONITOR would see the other processes sharing the server too.
 */
const counts = new Map<string, number>()
/** With --scripts, EVALSHA is counted per script and key count (e.g. `evalsha:LOOKUP/11`). */
const SCRIPTS = args.includes('--scripts')
/** The store's scripts by SHA, read from core's build (internal modules, only to name them). */
const scriptNames = new Map<string, string>()
if (SCRIPTS || SLOWLOG) {
  for (const file of ['redis-scripts.js', 'redis-write-log.js']) {
    const url = new URL(`../../../packages/core/dist/redis/${file}`, import.meta.url).href
    const module = (await import(url)) as Record<string, unknown>
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'object' && value !== null && 'sha' in value)
        scriptNames.set(String(value.sha), name)
    }
  }
}
/**
 * Socket writes and reads of this process (each one a system call on every connection: Redis and
 * Postgres alike). On this kind of box a loopback write costs tens of µs of the caller's CPU, so
 * how many an operation makes decides much of its cost.
 */
const sockets = { writes: 0, reads: 0 }
const socketProto = Socket.prototype as unknown as { _writeGeneric: (...a: unknown[]) => unknown }
const writeGeneric = socketProto._writeGeneric
socketProto._writeGeneric = function (this: Socket, ...a: unknown[]) {
  sockets.writes++
  return writeGeneric.apply(this, a)
}
const push = Readable.prototype.push
Readable.prototype.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding) {
  if (chunk !== null && this instanceof Socket) sockets.reads++
  return push.call(this, chunk, encoding)
}
const send = Redis.prototype.sendCommand
Redis.prototype.sendCommand = function (this: Redis, command, stream) {
  const { name: lower, args: commandArgs } = command as { name: string; args: unknown[] }
  let name = lower.toLowerCase()
  if (SCRIPTS && name === 'evalsha')
    name += `:${scriptNames.get(String(commandArgs[0])) ?? '?'}/${commandArgs[1]}`
  counts.set(name, (counts.get(name) ?? 0) + 1)
  return send.call(this, command, stream)
} as typeof send
async function commandStats(_redis: Redis): Promise<Map<string, number>> {
  return new Map(counts)
}

async function measure(subject: OrmSubject, redis: Redis, label: string, ops: Op[]) {
  const before = await commandStats(redis)
  const socketsBefore = { ...sockets }
  const sql = subject.queries.total
  const reads = subject.queries.reads
  const session = PROFILE.includes(label.replace(' ', '-')) ? new Session() : undefined
  if (session) {
    session.connect()
    if (HEAP)
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      })
    else {
      await session.post('Profiler.enable')
      // 200 µs instead of the default 1 ms: a phase of a few thousand operations otherwise
      // leaves too few samples per function to compare two runs.
      await session.post('Profiler.setSamplingInterval', { interval: 200 })
      await session.post('Profiler.start')
    }
  }
  // The server's settings before this phase, put back after it (reportSlowlog).
  const slowlog =
    label.replace(' ', '-') === SLOWLOG ? ((await redis.config('GET', 'slowlog-*')) as string[]) : undefined
  if (slowlog) {
    await redis.config('SET', 'slowlog-max-len', '1000000')
    await redis.config('SET', 'slowlog-log-slower-than', '0')
    await redis.slowlog('RESET')
  }
  const cpuBefore = readCpu()
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ops.length) {
        await ops[next++]!()
        await setImmediate()
      }
    }),
  )
  const wall = performance.now() - started
  const used = cpuSince(cpuBefore)
  if (session) {
    const { profile } = HEAP
      ? await session.post('HeapProfiler.stopSampling')
      : await session.post('Profiler.stop')
    const file = `/tmp/${subject.id}-${label.replace(/\W+/g, '-')}.${HEAP ? 'heapprofile' : 'cpuprofile'}`
    writeFileSync(file, JSON.stringify(profile))
    session.disconnect()
    console.log(`profile: ${file}`)
  }
  const n = ops.length
  if (slowlog) await reportSlowlog(redis, n, slowlog)
  const after = await commandStats(redis)
  const cmds: string[] = []
  let total = 0
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0)
    if (delta > 0) {
      total += delta
      cmds.push(`${name} ${(delta / n).toFixed(2)}`)
    }
  }
  console.log(
    `${subject.id.padEnd(24)} ${label.padEnd(10)} cpu ${((used.client / n) | 0).toString().padStart(5)} µs/op` +
      ` (redis ${((used.redis / n) | 0).toString().padStart(4)}, pg ${((used.postgres / n) | 0).toString().padStart(4)})` +
      `  ${((n / wall) * 1000).toFixed(0).padStart(6)} ops/s  sql ${((subject.queries.total - sql) / n).toFixed(3)}` +
      ` (reads ${((subject.queries.reads - reads) / n).toFixed(3)})` +
      `  socket w/r ${((sockets.writes - socketsBefore.writes) / n).toFixed(2)}/${((sockets.reads - socketsBefore.reads) / n).toFixed(2)}  redis ${(total / n).toFixed(2)}/op: ${cmds.join(', ')}`,
  )
}

/** Sums SLOWLOG's microseconds per command (scripts by name and key count), per operation. */
async function reportSlowlog(redis: Redis, ops: number, settings: string[]): Promise<void> {
  const entries = (await redis.slowlog('GET', -1)) as [number, number, number, string[]][]
  await redis.slowlog('RESET')
  for (let i = 0; i + 1 < settings.length; i += 2) await redis.config('SET', settings[i]!, settings[i + 1]!)
  const sums = new Map<string, { calls: number; micros: number }>()
  for (const [, , micros, argv] of entries) {
    let name = String(argv[0]).toLowerCase()
    if (name === 'evalsha') name += `:${scriptNames.get(String(argv[1])) ?? '?'}/${argv[2]}`
    if (name === 'slowlog' || name === 'config') continue
    const sum = sums.get(name) ?? { calls: 0, micros: 0 }
    sum.calls++
    sum.micros += micros
    sums.set(name, sum)
  }
  const total = [...sums.values()].reduce((a, b) => a + b.micros, 0)
  console.log(
    `slowlog: ${entries.length} commands (all clients), ${(total / ops).toFixed(1)} µs/op inside Redis`,
  )
  for (const [name, sum] of [...sums].sort((a, b) => b[1].micros - a[1].micros))
    console.log(
      `  ${name.padEnd(28)} ${(sum.calls / ops).toFixed(3)}/op  ${(sum.micros / sum.calls).toFixed(1).padStart(7)} µs each  ${(sum.micros / ops).toFixed(1).padStart(6)} µs/op`,
    )
}

async function main() {
  const redis = new Redis(redisUrl)
  const database = await prepareDatabase()
  try {
    const factories = [...PRISMA_SUBJECTS, ...TYPEORM_SUBJECTS].filter(
      (f) => wanted.length === 0 || wanted.includes(f.id),
    )
    for (const factory of factories) {
      const subject = await factory.create(`profile.${process.pid}.${factory.id}`, database.url)
      try {
        const random = seededRandom(7)
        const user = zipf(USERS, 0.99, random)
        const mixed = (count: number, readShare: number): Op[] =>
          Array.from({ length: count }, () => {
            const u = user()
            const read = random() < readShare
            const pick = random()
            if (read) return pick < 0.7 ? () => subject.findUser(u) : () => subject.findTeam(teamOf(u))
            if (pick < 0.5) return () => subject.updateUser(u)
            const posts = postsOf(u)
            const post = posts[Math.floor(random() * posts.length)]!
            return () => subject.updatePost(post)
          })
        // Warm: every hot user and team read once.
        await measure(subject, redis, 'warm', mixed(OPS, 0.95))
        const hot = Array.from({ length: 50 }, (_, i) => i + 1)
        await measure(
          subject,
          redis,
          'find-hit',
          Array.from({ length: OPS }, (_, i) => () => subject.findUser(hot[i % 50]!)),
        )
        await measure(
          subject,
          redis,
          'team-hit',
          Array.from({ length: OPS }, (_, i) => () => subject.findTeam(teamOf(hot[i % 50]!))),
        )
        // Writes alone: what the write path costs beyond the database's UPDATE.
        await measure(
          subject,
          redis,
          'user-write',
          Array.from({ length: OPS }, (_, i) => () => subject.updateUser(hot[i % 50]!)),
        )
        // A write, then the read it invalidated: the miss and write path without the hits.
        const pairs = (write: (u: number) => Promise<unknown>, read: (u: number) => Promise<unknown>): Op[] =>
          Array.from({ length: OPS }, (_, i) => {
            const u = hot[(i >> 1) % 50]!
            return i % 2 === 0 ? () => write(u) : () => read(u)
          })
        await measure(
          subject,
          redis,
          'user-w+r',
          pairs(
            (u) => subject.updateUser(u),
            (u) => subject.findUser(u),
          ),
        )
        await measure(
          subject,
          redis,
          'post-w+team',
          pairs(
            (u) => subject.updatePost(postsOf(u)[0]!),
            (u) => subject.findTeam(teamOf(u)),
          ),
        )
        // The Zipf reads alone (after the writes above, so some keys miss once): what hits cost
        // in the mix's key spread, against the single-key hit phases above.
        await measure(subject, redis, 'mix 100/0', mixed(OPS, 1))
        await measure(subject, redis, 'mix 100/0', mixed(OPS, 1))
        await measure(subject, redis, 'mix 95/5', mixed(OPS, 0.95))
        await measure(subject, redis, 'mix 80/20', mixed(OPS, 0.8))
      } finally {
        await subject.close()
      }
    }
  } finally {
    // Its keys carry day-long TTLs and would weigh on every later run on this server.
    await removeRunKeys(`profile.${process.pid}.`)
    await database.release()
    redis.disconnect()
  }
}

await main()
