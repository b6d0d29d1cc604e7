import type * as Api from '@opentelemetry/api'
import type { Attributes, Context, Span, SpanStatusCode, Tracer } from '@opentelemetry/api'
import type { CacheTracer, InvalidationStart, ReadStart, ReadTrace } from '../observe.js'
import type { ReadOutcome } from '../read-path/cache-aside.js'

const INTERNAL = 0 // SpanKind.INTERNAL
const ERROR = 2 as SpanStatusCode // SpanStatusCode.ERROR

/** The parts of `@opentelemetry/api` the read spans need besides the tracer. */
export interface OtelContextApi {
  context: Pick<typeof Api.context, 'active' | 'with'>
  trace: Pick<typeof Api.trace, 'setSpan'>
}

/**
 * One span per cached read and one per invalidation, children of the caller's active span. A
 * read's span is made active only around its loader (so the database spans are its children):
 * a hit, which runs no loader, enters no context. Tags are counted, never spanned: a query with
 * twenty tags costs one span, like a query with one.
 */
export function otelTracer(tracer: Tracer, cache: string, api: OtelContextApi): CacheTracer {
  return {
    startRead(start: ReadStart): ReadTrace {
      // A fresh object per read: an SDK may write its sampler's attributes into it (1.x does).
      // Everything known at the start goes in, so a sampler can decide on it.
      const attributes: Attributes = {
        'ormcache.cache': cache,
        'ormcache.key_hash': start.keyHash,
        'ormcache.tag_count': start.tagCount,
      }
      if (start.model !== undefined) attributes['ormcache.model'] = start.model
      if (start.operation !== undefined) attributes['ormcache.operation'] = start.operation
      const parent = api.context.active()
      const span = tracer.startSpan('ormcache.read', { kind: INTERNAL, attributes }, parent)
      return new ReadSpan(span, parent, api)
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

/** A read's span: one object per read, holding what its loader scope and its end need. */
class ReadSpan implements ReadTrace {
  constructor(
    private readonly span: Span,
    private readonly parent: Context,
    private readonly api: OtelContextApi,
  ) {}

  within<R>(fn: () => R): R {
    // The span's context is built only when a loader runs.
    return this.api.context.with(this.api.trace.setSpan(this.parent, this.span), fn)
  }

  end(outcome: ReadOutcome<unknown>): void {
    const span = this.span
    // A sampled-out span drops attributes anyway: skip the calls.
    if (span.isRecording()) {
      const info = outcome.info
      span.setAttribute('ormcache.source', info.source)
      if (info.tier !== undefined) span.setAttribute('ormcache.tier', info.tier)
      if (info.reason !== undefined) span.setAttribute('ormcache.reason', info.reason)
      span.setAttribute('ormcache.bytes', outcome.bytes)
      span.setAttribute('ormcache.round_trips', outcome.roundTrips)
    }
    span.end()
  }

  fail(error: unknown): void {
    markFailed(this.span, error)
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
      (error: unknown) => {
        markFailed(span, error)
        throw error
      },
    ),
  )
}

/** Only the error's type: a driver's message may carry a connection string, and spans leave the process. */
function markFailed(span: Span, error: unknown): void {
  const type = error instanceof Error ? ((error as { code?: unknown }).code ?? error.name) : typeof error
  span.setAttribute('error.type', String(type))
  span.setStatus({ code: ERROR })
  span.end()
}
