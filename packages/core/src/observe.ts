import type { CacheContext } from './cache-context.js'
import { InvalidOptionError } from './errors.js'
import type { ReadInfo, ReadOutcome, ReadSource } from './read-path/cache-aside.js'

/** What a tracer learns when a cached read starts. */
export interface ReadStart {
  /** A short hash of the entry's store key: groups reads of one entry without revealing the query. */
  readonly keyHash: string
  readonly model: string | undefined
  readonly operation: string | undefined
  readonly tagCount: number
}

/** What a tracer learns when an invalidation starts. */
export interface InvalidationStart {
  /** `invalidate`: tags bumped after a write; `write-through`: a bump carrying the written row. */
  readonly kind: 'invalidate' | 'write-through'
  readonly tagCount: number
  /** The whole namespace (`clear()`, unknown raw SQL). */
  readonly everything: boolean
}

/**
 * One read being traced, from `startRead` until `end` or `fail` (exactly one of them). A handle
 * instead of a wrapper around the read: wrapping would add a promise and an await per read, and
 * under an AsyncLocalStorage context manager every promise pays for its async hooks.
 */
export interface ReadTrace {
  /**
   * Runs `fn` inside the read's scope (e.g. with its span active). The cache calls it around the
   * loader only, so a hit (no loader) never enters a context, and the loader's database spans are
   * still children of the read's.
   */
  within<R>(fn: () => R): R
  end(outcome: ReadOutcome<unknown>): void
  /** The read threw at its caller (loader or cache error). */
  fail(error: unknown): void
}

/**
 * Starts cache work inside a tracer's scope, e.g. an OpenTelemetry span, so the loader's own
 * database spans nest under it. Internal contract between core and its `otel` entry; a cache
 * without a tracer never calls into one.
 */
export interface CacheTracer {
  startRead(start: ReadStart): ReadTrace
  invalidate<T>(start: InvalidationStart, run: () => Promise<T>): Promise<T>
}

/**
 * What a metrics exporter records per settled read. Positional, so recording a read allocates
 * no event object: `model` is the capped name `stats().models` uses, `source` is `error` when the
 * read threw at its caller, `ms` is the wall time, loader included.
 */
export type ReadMeter = (
  model: string | undefined,
  operation: string | undefined,
  source: ReadSource | 'error',
  tier: ReadInfo['tier'],
  ms: number,
) => void

const contexts = new WeakMap<object, CacheContext>()

export function registerContext(cache: object, ctx: CacheContext): void {
  contexts.set(cache, ctx)
}

/** The internals of a cache made by `createCache`, for this package's integrations. */
export function contextOf(cache: unknown, option = 'cache'): CacheContext {
  const ctx = typeof cache === 'object' && cache !== null ? contexts.get(cache) : undefined
  if (ctx === undefined) throw new InvalidOptionError(option, 'must be a cache made by createCache()')
  return ctx
}

/** Installs `tracer` on the cache; several stack (the first installed is the outermost scope). */
export function addTracer(ctx: CacheContext, tracer: CacheTracer): () => void {
  ctx.tracers = [...ctx.tracers, tracer]
  ctx.tracer = compose(ctx.tracers)
  return () => {
    ctx.tracers = ctx.tracers.filter((t) => t !== tracer)
    ctx.tracer = compose(ctx.tracers)
  }
}

/** Installs a metrics exporter's per-read recorder; returns the detach. */
export function addReadMeter(ctx: CacheContext, meter: ReadMeter): () => void {
  // Replaced, not mutated: a read that is recording keeps iterating the list it started with.
  ctx.readMeters = [...ctx.readMeters, meter]
  return () => {
    ctx.readMeters = ctx.readMeters.filter((m) => m !== meter)
  }
}

function compose(tracers: readonly CacheTracer[]): CacheTracer | undefined {
  if (tracers.length <= 1) return tracers[0]
  return tracers.reduceRight((inner, outer) => ({
    // The inner read starts inside the outer's scope, so its span (and the loader's, under it)
    // nest in the outer's: only a stacked setup pays for entering a scope on a hit.
    startRead: (start) => {
      const outerRead = outer.startRead(start)
      const innerRead = outerRead.within(() => inner.startRead(start))
      return {
        within: (fn) => outerRead.within(() => innerRead.within(fn)),
        end: (outcome) => {
          innerRead.end(outcome)
          outerRead.end(outcome)
        },
        fail: (error) => {
          innerRead.fail(error)
          outerRead.fail(error)
        },
      }
    },
    invalidate: (start, run) => outer.invalidate(start, () => inner.invalidate(start, run)),
  }))
}
