import type { CacheContext } from './cache-context.js'
import { InvalidOptionError } from './errors.js'
import type { ReadOutcome } from './read-path/cache-aside.js'

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

/** Runs `fn` inside a read's scope (e.g. with the read's span active). */
export type ReadScope = <R>(fn: () => R) => R

/**
 * Runs cache work inside a tracer's scope, e.g. an active OpenTelemetry span, so the loader's own
 * database spans nest under it. Internal contract between core and its `otel` entry; a cache
 * without a tracer never calls into one.
 */
export interface CacheTracer {
  /**
   * `run` gets the read's scope: the cache calls it around the loader only, so a hit (no
   * loader) never enters a context, and the loader's spans are still children of the read's.
   */
  read<T>(start: ReadStart, run: (scope: ReadScope) => Promise<ReadOutcome<T>>): Promise<ReadOutcome<T>>
  invalidate<T>(start: InvalidationStart, run: () => Promise<T>): Promise<T>
}

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

function compose(tracers: readonly CacheTracer[]): CacheTracer | undefined {
  if (tracers.length <= 1) return tracers[0]
  return tracers.reduceRight((inner, outer) => ({
    // The inner read starts inside the outer's scope, so its span (and the loader's, under it)
    // nest in the outer's: only a stacked setup pays for entering a scope on a hit.
    read: (start, run) => outer.read(start, (outerScope) => outerScope(() => inner.read(start, run))),
    invalidate: (start, run) => outer.invalidate(start, () => inner.invalidate(start, run)),
  }))
}
