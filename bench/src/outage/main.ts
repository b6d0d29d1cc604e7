import { dropOutageSchema, prepareOutageSchema } from './database.js'
import {
  type FaultKind,
  OUTAGE_RESILIENCE,
  percentile,
  runOutage,
  type StoreKind,
  uncachedLatencies,
} from './load.js'

/**
 * `npm run outage`: the outage load (see load.ts) for every store and fault, then the same load
 * with no cache at all; prints each ORM's p99 while the store was down next to the uncached p99.
 */
const url = await prepareOutageSchema()
const ops = Number(process.env.OUTAGE_OPS ?? 1_000)
const fmt = (ms: number) => `${ms.toFixed(1)} ms`
try {
  const uncached = await uncachedLatencies(url, ops)
  const uncachedP99 = percentile(uncached, 99)
  console.log(
    `resilience: ${JSON.stringify(OUTAGE_RESILIENCE)}; ${ops} ops per ORM per phase, 3 callers per ORM`,
  )
  console.log(`uncached (database only): p50 ${fmt(percentile(uncached, 50))}, p99 ${fmt(uncachedP99)}`)
  console.log(
    'scenario            | ORM     | failed | stale | healthy p99 | outage p50 | outage p99 | Δ vs uncached p99 | error events | recovery polls (100 ms)',
  )
  for (const store of ['redis', 'memcached'] as StoreKind[]) {
    for (const fault of ['SIGKILL', 'SIGSTOP'] as FaultKind[]) {
      const report = await runOutage({ store, fault, url, outageOps: ops })
      for (const s of report.subjects) {
        const p99 = percentile(s.latencies.outage, 99)
        console.log(
          [
            report.scenario.padEnd(19),
            s.name.padEnd(7),
            String(s.failed).padStart(6),
            String(s.stale).padStart(5),
            fmt(percentile(s.latencies.healthy, 99)).padStart(11),
            fmt(percentile(s.latencies.outage, 50)).padStart(10),
            fmt(p99).padStart(10),
            `${p99 - uncachedP99 >= 0 ? '+' : ''}${fmt(p99 - uncachedP99)}`.padStart(17),
            String(s.errorEvents).padStart(12),
            String(report.recoveryPolls ?? 'never'),
          ].join(' | '),
        )
      }
    }
  }
} finally {
  await dropOutageSchema()
}
