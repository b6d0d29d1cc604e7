import type { CacheContext } from '../cache-context.js'
import { InvalidOptionError, type OrmCacheError } from '../errors.js'
import type { CacheEvents } from '../events.js'
import { addReadMeter, type ReadMeter } from '../observe.js'
import { BREAKER_VALUES } from './metric-names.js'

/** What an exporter needs from one cache: its events, and values it samples on collection. */
export interface WriteBehindSource {
  stats(): { deadLettered: number }
  pending(): Promise<number>
}

/**
 * A change-stream consumer (e.g. `@ormcache/postgres`'s handle) whose lag to report: anything with
 * these stats, so core needs no import of the consumer's package.
 */
export interface ChangeStreamSource {
  stats(): { lagBytes: number; lagMs: number }
}

export interface Gauges {
  breakerState: number
  l1Entries: number
  writeBehindDepth: number | undefined
  writeBehindDeadLetters: number | undefined
  /** The most any change stream is behind: source bytes not yet acknowledged, and ms. */
  changeStreamLagBytes: number | undefined
  changeStreamLagMs: number | undefined
}

/**
 * Samples a cache's pull-style values. A write-behind queue that cannot say its depth (store down)
 * leaves the depth out rather than report a made-up zero.
 */
export async function sampleGauges(
  ctx: CacheContext,
  writers: readonly WriteBehindSource[],
  streams: readonly ChangeStreamSource[] = [],
): Promise<Gauges> {
  let depth: number | undefined
  let dead: number | undefined
  if (writers.length > 0) {
    dead = 0
    for (const writer of writers) dead += writer.stats().deadLettered
    try {
      depth = 0
      for (const depthOf of await Promise.all(writers.map((writer) => writer.pending()))) depth += depthOf
    } catch {
      depth = undefined
    }
  }
  let lagBytes: number | undefined
  let lagMs: number | undefined
  for (const stream of streams) {
    const { lagBytes: bytes, lagMs: ms } = stream.stats()
    lagBytes = Math.max(lagBytes ?? 0, bytes)
    lagMs = Math.max(lagMs ?? 0, ms)
  }
  return {
    changeStreamLagBytes: lagBytes,
    changeStreamLagMs: lagMs,
    breakerState: BREAKER_VALUES[ctx.store.state],
    l1Entries: ctx.l1?.size ?? 0,
    writeBehindDepth: depth,
    writeBehindDeadLetters: dead,
  }
}

/** Rejects a `changeStreams` option that is not an array of sources with `stats()`. */
export function checkChangeStreams(streams: unknown): void {
  if (streams === undefined) return
  if (
    !Array.isArray(streams) ||
    !streams.every((s) => typeof (s as { stats?: unknown } | null)?.stats === 'function')
  )
    throw new InvalidOptionError(
      'changeStreams',
      'must be an array of change-stream consumers (with stats())',
    )
}

/**
 * Subscribes to what the push-style metrics count; returns the unsubscribe. Reads come through
 * a ReadMeter, not the `read` event: no event object is built per read for an exporter.
 */
export function onMetricEvents(
  ctx: CacheContext,
  handlers: {
    read: ReadMeter
    error: (fault: { error: OrmCacheError; operation: string }) => void
    invalidate: (event: CacheEvents['invalidate']) => void
  },
): () => void {
  // Every fault, not only the one `error` event per run of store faults.
  ctx.faultCounters.add(handlers.error)
  const off = [
    addReadMeter(ctx, handlers.read),
    () => ctx.faultCounters.delete(handlers.error),
    ctx.events.on('invalidate', handlers.invalidate),
  ]
  return () => {
    for (const unsubscribe of off) unsubscribe()
  }
}

/**
 * One value per read label set (model, operation, source; or source, tier), found with Map
 * lookups on the labels themselves: no key string is built per read. Label sets are bounded
 * (models are capped by stats(), operations and sources are fixed vocabularies).
 */
export class LabelSlots<V> {
  private readonly slots = new Map<string | undefined, Map<string | undefined, Map<string, V>>>()

  constructor(private readonly make: (a: string | undefined, b: string | undefined, c: string) => V) {}

  get(a: string | undefined, b: string | undefined, c: string): V {
    let byB = this.slots.get(a)
    if (byB === undefined) {
      byB = new Map()
      this.slots.set(a, byB)
    }
    let byC = byB.get(b)
    if (byC === undefined) {
      byC = new Map()
      byB.set(b, byC)
    }
    let slot = byC.get(c)
    if (slot === undefined) {
      slot = this.make(a, b, c)
      byC.set(c, slot)
    }
    return slot
  }

  *values(): IterableIterator<V> {
    for (const byB of this.slots.values()) for (const byC of byB.values()) yield* byC.values()
  }
}

/** The `cache` label of a cache's series: `name`, or its namespace. */
export function labelOf(name: string | undefined, ctx: CacheContext): string {
  if (name === undefined) return ctx.keys.namespace
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidOptionError('name', 'must be a non-empty string')
  return name
}
