import type * as PromClient from 'prom-client'
import type { Cache } from '../cache.js'
import type { CacheContext } from '../cache-context.js'
import { InvalidOptionError } from '../errors.js'
import { contextOf } from '../observe.js'
import { loadPeer } from '../store/peer.js'
import { METRICS, READ_SECONDS_BUCKETS } from './metric-names.js'
import {
  type ChangeStreamSource,
  checkChangeStreams,
  type Gauges,
  LabelSlots,
  labelOf,
  onMetricEvents,
  sampleGauges,
  type WriteBehindSource,
} from './sources.js'

export interface PrometheusOptions {
  /** Default: prom-client's global `register`. */
  registry?: PromClient.Registry
  /** Write-behind writers whose queue depth and dead letters to report. */
  writeBehind?: readonly WriteBehindSource[]
  /** Change-stream consumers (e.g. `postgresInvalidation(...)`) whose lag to report as gauges. */
  changeStreams?: readonly ChangeStreamSource[]
  /** The `cache` label of this cache's series; default its namespace. */
  name?: string
}

export interface PrometheusMetrics {
  /** Stops counting this cache; its series stay in the registry until the registry is cleared. */
  close(): void
}

interface Watched {
  name: string
  ctx: CacheContext
  writers: readonly WriteBehindSource[]
  streams: readonly ChangeStreamSource[]
}

interface Instruments {
  reads: PromClient.Counter<'cache' | 'model' | 'operation' | 'source'>
  duration: PromClient.Histogram<'cache' | 'source' | 'tier'>
  errors: PromClient.Counter<'cache' | 'code' | 'operation'>
  invalidations: PromClient.Counter<'cache'>
  /** Caches whose gauges are sampled on each scrape. */
  watched: Set<Watched>
}

/** One set of instruments per registry, shared by every cache exported to it (a name registers once). */
const perRegistry = new WeakMap<PromClient.Registry, Instruments>()

/**
 * Counts reads, read latency, errors and invalidations as they happen, and samples the breaker
 * state, L1 size and write-behind queue on each scrape. Several caches may share one registry;
 * their series differ by the `cache` label (give caches that share a namespace a `name`).
 */
export function prometheusMetrics(cache: Cache, options: PrometheusOptions = {}): PrometheusMetrics {
  const ctx = contextOf(cache)
  if (options.writeBehind !== undefined && !Array.isArray(options.writeBehind))
    throw new InvalidOptionError('writeBehind', 'must be an array of write-behind writers')
  checkChangeStreams(options.changeStreams)
  const prom = loadPeer<typeof PromClient>('prom-client', '@ormcache/core/prometheus')
  const registry = options.registry ?? prom.register
  let instruments = perRegistry.get(registry)
  if (instruments === undefined) {
    instruments = create(prom, registry)
    perRegistry.set(registry, instruments)
  }
  const { reads, duration, errors, invalidations, watched } = instruments
  const label = labelOf(options.name, ctx)
  // prom-client hashes a label set per call; the bounded label sets' children are kept instead.
  const readChildren = new LabelSlots((model, operation, source) =>
    reads.labels({ cache: label, model: model ?? '', operation: operation ?? '', source }),
  )
  const durationChildren = new LabelSlots((source, tier) =>
    duration.labels({ cache: label, source: source ?? '', tier: tier ?? '' }),
  )
  const off = onMetricEvents(ctx, {
    read: (model, operation, source, tier, ms) => {
      readChildren.get(model, operation, source).inc()
      durationChildren.get(source, tier, '').observe(ms / 1000)
    },
    error: (event) => errors.inc({ cache: label, code: event.error.code, operation: event.operation }),
    invalidate: (event) => invalidations.inc({ cache: label }, event.everything ? 1 : event.tags.length),
  })
  const entry: Watched = {
    name: label,
    ctx,
    writers: options.writeBehind ?? [],
    streams: options.changeStreams ?? [],
  }
  watched.add(entry)
  return {
    close: () => {
      off()
      watched.delete(entry)
    },
  }
}

function create(prom: typeof PromClient, registry: PromClient.Registry): Instruments {
  const registers = [registry]
  const watched = new Set<Watched>()
  type Metric = (typeof METRICS)[keyof typeof METRICS]
  type Pick = (gauges: Gauges) => number | undefined
  /** Sets every watched cache's sample on scrape; `set` is a gauge's set or a counter's reset-and-add. */
  const sampled =
    (pick: Pick, set: (labels: { cache: string }, value: number) => void, reset: () => void) =>
    async (): Promise<void> => {
      reset()
      for (const { name, ctx, writers, streams } of watched) {
        const value = pick(await sampleGauges(ctx, writers, streams))
        if (value !== undefined) set({ cache: name }, value)
      }
    }
  const gauge = (metric: Metric, pick: Pick) => {
    const made: PromClient.Gauge<'cache'> = new prom.Gauge({
      name: metric.prom,
      help: metric.help,
      labelNames: ['cache'],
      registers,
      collect: () =>
        sampled(
          pick,
          (labels, value) => made.set(labels, value),
          () => made.reset(),
        )(),
    })
  }
  gauge(METRICS.breakerState, (g) => g.breakerState)
  gauge(METRICS.l1Entries, (g) => g.l1Entries)
  gauge(METRICS.writeBehindDepth, (g) => g.writeBehindDepth)
  gauge(METRICS.changeStreamLagBytes, (g) => g.changeStreamLagBytes)
  gauge(METRICS.changeStreamLagMs, (g) => g.changeStreamLagMs)
  // Cumulative, read from the writers' stats at scrape time: a counter set to their total.
  const dead: PromClient.Counter<'cache'> = new prom.Counter({
    name: METRICS.writeBehindDeadLetters.prom,
    help: METRICS.writeBehindDeadLetters.help,
    labelNames: ['cache'],
    registers,
    collect: () =>
      sampled(
        (g) => g.writeBehindDeadLetters,
        (labels, value) => dead.inc(labels, value),
        () => dead.reset(),
      )(),
  })
  return {
    reads: new prom.Counter({
      name: METRICS.reads.prom,
      help: METRICS.reads.help,
      labelNames: ['cache', 'model', 'operation', 'source'],
      registers,
    }),
    duration: new prom.Histogram({
      name: METRICS.readDuration.prom,
      help: METRICS.readDuration.help,
      labelNames: ['cache', 'source', 'tier'],
      buckets: READ_SECONDS_BUCKETS,
      registers,
    }),
    errors: new prom.Counter({
      name: METRICS.errors.prom,
      help: METRICS.errors.help,
      labelNames: ['cache', 'code', 'operation'],
      registers,
    }),
    invalidations: new prom.Counter({
      name: METRICS.invalidations.prom,
      help: METRICS.invalidations.help,
      labelNames: ['cache'],
      registers,
    }),
    watched,
  }
}
