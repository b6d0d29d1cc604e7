import { setTimeout as sleep } from 'node:timers/promises'
import { type Cache, type CacheOptions, type CircuitChange, createCache } from '@ormcache/core'
import { memcachedStore } from '@ormcache/core/memcached'
import { redisStore } from '@ormcache/core/redis'
import { ROWS } from './database.js'
import { type OwnedServer, ownMemcached, ownRedis } from './servers.js'
import { type LoadSubject, prismaSubject, typeormSubject } from './subjects.js'

export type StoreKind = 'redis' | 'memcached'
export type FaultKind = 'SIGKILL' | 'SIGSTOP'

export interface OutageOptions {
  store: StoreKind
  fault: FaultKind
  /** Database URL (the outage schema must exist). */
  url: string
  /** Concurrent callers per ORM. */
  workers?: number
  /** Operations per ORM measured while the store is down. */
  outageOps?: number
  /** Fraction of operations that are writes. */
  writeRatio?: number
  /** Store resilience settings given to createCache. */
  resilience?: Pick<CacheOptions, 'timeouts' | 'circuitBreaker' | 'recoveryGrace'>
}

export interface SubjectReport {
  name: string
  ops: number
  failed: number
  /** Reads that returned a version older than a write that had resolved before the read began. */
  stale: number
  /** ms per operation, by phase. */
  latencies: { healthy: number[]; outage: number[] }
  errorEvents: number
  circuit: CircuitChange[]
  /** Store hits counted after the server came back (> 0: the cache is in use again). */
  hitsAfterRestore: number
  firstError?: string
}

export interface OutageReport {
  scenario: string
  subjects: SubjectReport[]
  /** 100 ms polls from the server's return until every ORM saw store hits again (undefined: never). */
  recoveryPolls: number | undefined
}

/** The resilience settings of the outage run: tight enough that a run takes seconds. */
export const OUTAGE_RESILIENCE = {
  timeouts: { read: 100, write: 200, operation: 200 },
  circuitBreaker: { failureThreshold: 3, resetAfterMs: 250 },
  recoveryGrace: 500,
} as const

const RECOVERY_POLLS = 50
const POLL_MS = 100

/**
 * Steady Prisma and TypeORM load (each ORM on its own rows and cache namespace, in strict mode)
 * while a store server this run owns is SIGKILLed (then restarted) or SIGSTOPped (then
 * continued): counts failed queries and stale reads, records latencies, and counts the 100 ms
 * polls until both ORMs are served from the store again.
 */
export async function runOutage(options: OutageOptions): Promise<OutageReport> {
  const workers = options.workers ?? 3
  const outageOps = options.outageOps ?? 300
  const writeRatio = options.writeRatio ?? 0.1
  const resilience = options.resilience ?? OUTAGE_RESILIENCE
  const servers: OwnedServer[] =
    options.store === 'redis' ? [await ownRedis()] : await Promise.all([0, 1, 2].map(() => ownMemcached()))
  const victim = servers[servers.length - 1]!
  const tag = `${process.pid}-${Date.now().toString(36)}`
  const caches: Cache[] = []
  const newCache = (name: string) => {
    const store =
      options.store === 'redis'
        ? redisStore({ url: `redis://127.0.0.1:${victim.port}` })
        : memcachedStore({ servers: servers.map((s) => `127.0.0.1:${s.port}`) })
    const cache = createCache({ store, namespace: `outage-${name}-${tag}`, ...resilience })
    caches.push(cache)
    return cache
  }
  const half = ROWS / 2
  const states: State[] = []
  let phase: 'warm' | 'healthy' | 'outage' | 'recovery' = 'warm'
  let running = true
  const loops: Promise<void>[] = []
  try {
    for (const [index, build] of [prismaSubject, typeormSubject].entries()) {
      const cache = newCache(index === 0 ? 'prisma' : 'typeorm')
      const subject = await build(options.url, cache)
      const state = newState(subject, cache, 1 + index * half, half)
      states.push(state)
      for (let w = 0; w < workers; w++) {
        loops.push(
          (async () => {
            while (running) await step(state, phase, writeRatio)
          })(),
        )
      }
    }
    // Warm: until each ORM is served from the store.
    await until(() => states.every((s) => s.cache.stats().hits > 20), 200, 25)
    phase = 'healthy'
    await until(() => states.every((s) => s.report.latencies.healthy.length >= outageOps), 400, 25)

    if (options.fault === 'SIGKILL') await victim.kill()
    else victim.pause()
    phase = 'outage'
    await until(() => states.every((s) => s.report.latencies.outage.length >= outageOps), 600, 25)

    if (options.fault === 'SIGKILL') await victim.restart()
    else victim.resume()
    const hitsAtRestore = states.map((s) => s.cache.stats().hits)
    phase = 'recovery'
    let recoveryPolls: number | undefined
    for (let poll = 1; poll <= RECOVERY_POLLS; poll++) {
      await sleep(POLL_MS)
      if (states.every((s, i) => s.cache.stats().hits > hitsAtRestore[i]!)) {
        recoveryPolls = poll
        break
      }
    }
    // A little more load after recovery, so stale reads right after it would be seen.
    const after = states.map((s) => s.report.ops)
    await until(() => states.every((s, i) => s.report.ops >= after[i]! + 100), 200, 25)
    running = false
    await Promise.all(loops)
    for (const [i, s] of states.entries())
      s.report.hitsAfterRestore = s.cache.stats().hits - hitsAtRestore[i]!
    return {
      scenario: `${options.store} ${options.fault}`,
      subjects: states.map((s) => s.report),
      recoveryPolls,
    }
  } finally {
    running = false
    await Promise.allSettled(loops)
    for (const s of states) await s.subject.close().catch(() => {})
    for (const cache of caches) await cache.close().catch(() => {})
    for (const server of servers) await server.stop()
  }
}

interface State {
  subject: LoadSubject
  cache: Cache
  first: number
  count: number
  /** Per row: the newest version whose write has resolved. */
  floors: Map<number, number>
  report: SubjectReport
}

function newState(subject: LoadSubject, cache: Cache, first: number, count: number): State {
  const report: SubjectReport = {
    name: subject.name,
    ops: 0,
    failed: 0,
    stale: 0,
    latencies: { healthy: [], outage: [] },
    errorEvents: 0,
    circuit: [],
    hitsAfterRestore: 0,
  }
  cache.on('error', () => report.errorEvents++)
  cache.on('circuit', (change) => report.circuit.push(change))
  return { subject, cache, first, count, floors: new Map(), report }
}

async function step(state: State, phase: string, writeRatio: number): Promise<void> {
  // A small hot set, so reads hit the store often enough to matter.
  const id = state.first + Math.floor(Math.random() * Math.min(state.count, 50))
  const write = Math.random() < writeRatio
  const floor = state.floors.get(id) ?? 0
  const started = performance.now()
  try {
    if (write) {
      const version = await state.subject.write(id)
      if (version > (state.floors.get(id) ?? 0)) state.floors.set(id, version)
    } else if ((await state.subject.read(id)) < floor) state.report.stale++
  } catch (error) {
    state.report.failed++
    state.report.firstError ??= error instanceof Error ? error.message : String(error)
  }
  const ms = performance.now() - started
  state.report.ops++
  if (phase === 'healthy') state.report.latencies.healthy.push(ms)
  else if (phase === 'outage') state.report.latencies.outage.push(ms)
}

async function until(check: () => boolean, polls: number, everyMs: number): Promise<void> {
  for (let i = 0; i < polls && !check(); i++) await sleep(everyMs)
}

/** The p-th percentile (0-100) of `values`, in ms. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** p99 of the same load without any cache (the database alone), for comparison. */
export async function uncachedLatencies(url: string, ops: number, workers = 3): Promise<number[]> {
  const latencies: number[] = []
  const subjects = [await prismaSubject(url, undefined), await typeormSubject(url, undefined)]
  try {
    await Promise.all(
      subjects.flatMap((subject, index) =>
        Array.from({ length: workers }, async () => {
          const state = newState(subject, createCache(), 1 + index * (ROWS / 2), ROWS / 2)
          while (latencies.length < ops * 2) {
            const before = state.report.latencies.healthy.length
            await step(state, 'healthy', 0.1)
            latencies.push(...state.report.latencies.healthy.slice(before))
          }
        }),
      ),
    )
  } finally {
    for (const subject of subjects) await subject.close()
  }
  return latencies
}
