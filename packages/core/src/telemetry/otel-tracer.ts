import type { Attributes, Span, SpanStatusCode, Tracer } from '@opentelemetry/api'
import type { CacheTracer, InvalidationStart, ReadStart } from '../observe.js'
import type { ReadOutcome } from '../strategies/cache-aside.js'

const INTERNAL = 0 // SpanKind.INTERNAL
const ERROR = 2 as SpanStatusCode // SpanStatusCode.ERROR

/**
 * One span per cached read and one per invalidation, each active while the work runs, so the
 * loader's database spans are its children and the caller's active span is its parent. Tags are
 * counted, never spanned: a query with twenty tags costs one span, like a query with one.
 */
export function otelTracer(tracer: Tracer, cache: string): CacheTracer {
  return {
    read<T>(start: ReadStart, run: () => Promise<ReadOutcome<T>>): Promise<ReadOutcome<T>> {
      const attributes: Attributes = {
        'ormcache.cache': cache,
        'ormcache.key_hash': start.keyHash,
        'ormcache.tag_count': start.tagCount,
      }
      if (start.model !== undefined) attributes['ormcache.model'] = start.model
      if (start.operation !== undefined) attributes['ormcache.operation'] = start.operation
      return tracer.startActiveSpan('ormcache.read', { kind: INTERNAL, attributes }, (span) =>
        run().then(
          (outcome) => {
            span.setAttribute('ormcache.source', outcome.info.source)
            if (outcome.info.tier !== undefined) span.setAttribute('ormcache.tier', outcome.info.tier)
            if (outcome.info.reason !== undefined) span.setAttribute('ormcache.reason', outcome.info.reason)
            span.setAttribute('ormcache.bytes', outcome.bytes)
            span.setAttribute('ormcache.round_trips', outcome.roundTrips)
            span.end()
            return outcome
          },
          (error: unknown) => fail(span, error),
        ),
      )
    },
    invalidate<T>(start: InvalidationStart, run: () => Promise<T>): Promise<T> {
      const attributes: Attributes = {
        'ormcache.cache': cache,
        'ormcache.invalidation.kind': start.kind,
        'ormcache.tag_count': start.tagCount,
        'ormcache.everything': start.everything,
      }
      return traced(tracer, 'ormcache.invalidate', attributes, run)
    },
  }
}

/** Runs `run` inside an active span that ends with it (marked failed if it rejects). */
export function traced<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  run: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: INTERNAL, attributes }, (span) =>
    run().then(
      (value) => {
        span.end()
        return value
      },
      (error: unknown) => fail(span, error),
    ),
  )
}

/** Only the error's type: a driver's message may carry a connection string, and spans leave the process. */
function fail(span: Span, error: unknown): never {
  const type = error instanceof Error ? ((error as { code?: unknown }).code ?? error.name) : typeof error
  span.setAttribute('error.type', String(type))
  span.setStatus({ code: ERROR })
  span.end()
  throw error
}
