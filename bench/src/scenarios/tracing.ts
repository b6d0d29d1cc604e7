import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base'
import { bulkTag, rowTag } from '@ormcache/core/adapter'
import { instrumentCache } from '@ormcache/core/otel'
import { payloadFor } from '../payload.js'
import type { Table, Target } from '../report/types.js'
import { type Case, type CaseResult, formatMs, formatRate, measureInterleaved } from '../runner/measure.js'
import { ormcacheCache } from '../subjects/ormcache-caches.js'
import { requireServices } from '../subjects/requirements.js'
import { measureOptions, type Scenario } from './types.js'

const KEYS = 100
const CONCURRENCY = [1, 64] as const
const tagsFor = (id: number): string[] => [rowTag('bench_user', { id }), bulkTag('bench_user')]

/** Spans are batched and dropped: the bench measures making spans, not shipping them. */
class DiscardingExporter implements SpanExporter {
  exported = 0
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.exported += spans.length
    done({ code: 0 })
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

class PullReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

/**
 * Issue 16's overhead target: the L2 hit on Redis with OpenTelemetry tracing and metrics on, vs
 * the same cache without, read by callers that each run inside a request span (as an HTTP
 * server instrumentation would leave them).
 */
export const tracingScenario: Scenario = {
  id: 'tracing',
  title: '8. Tracing overhead on the L2 hit path',
  async run(ctx) {
    await requireServices(['redis'])
    const contextManager = new AsyncLocalStorageContextManager().enable()
    context.setGlobalContextManager(contextManager)
    const exporter = new DiscardingExporter()
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
    const reader = new PullReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const request = tracerProvider.getTracer('bench-http')
    const off = ormcacheCache('redis', `${ctx.prefix}.tracing-off`)
    const on = ormcacheCache('redis', `${ctx.prefix}.tracing-on`)
    const otel = instrumentCache(on, { tracerProvider, meterProvider })
    try {
      for (const cache of [off, on]) {
        ctx.progress.step(`prime ${cache.namespace}`)
        for (let id = 0; id < KEYS; id++)
          await cache.wrap(`user:${id}`, async () => payloadFor(id), { tags: tagsFor(id) })
      }
      const span = request.startSpan('GET /users/:id')
      const inRequest = trace.setSpan(context.active(), span)
      let loads = 0
      const load = async () => {
        loads++
        return payloadFor(0)
      }
      const read = (cache: typeof on) => (i: number) => {
        const id = i % KEYS
        return context.with(inRequest, () =>
          cache.wrap(`user:${id}`, load, { tags: tagsFor(id), model: 'User', operation: 'findUnique' }),
        )
      }
      const cases: Case[] = [
        { id: 'off', label: 'ormcache (Redis), no instrumentation', run: read(off) },
        { id: 'on', label: 'ormcache (Redis), OpenTelemetry spans + metrics', run: read(on) },
      ]
      const results = new Map<number, CaseResult[]>()
      for (const concurrency of CONCURRENCY) {
        results.set(
          concurrency,
          await measureInterleaved(cases, measureOptions(ctx.timing, concurrency, KEYS), ctx.progress),
        )
      }
      span.end()
      await tracerProvider.forceFlush()
      return report(results, loads, exporter.exported)
    } finally {
      otel.close()
      await off.close()
      await on.close()
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
      contextManager.disable()
      context.disable()
    }
  },
}

function report(results: Map<number, CaseResult[]>, loads: number, spans: number) {
  const get = (concurrency: number, id: string) => results.get(concurrency)!.find((r) => r.id === id)!
  const overhead = (concurrency: number, by: 'p50' | 'ops'): number => {
    const on = get(concurrency, 'on')
    const off = get(concurrency, 'off')
    return by === 'p50' ? on.p50 / off.p50 - 1 : off.opsPerSec / on.opsPerSec - 1
  }
  const percent = (value: number) => `${(value * 100).toFixed(1)} %`
  const table: Table = {
    title: `L2 hit on Redis (${KEYS} warm keys, two tags each), with and without OpenTelemetry`,
    columns: ['case', '1 caller ops/s', 'p50', 'p99', '64 callers ops/s', 'p50', 'p99'],
    rows: ['off', 'on'].map((id) => {
      const one = get(1, id)
      const many = get(64, id)
      return [
        one.label,
        formatRate(one.opsPerSec),
        formatMs(one.p50),
        formatMs(one.p99),
        formatRate(many.opsPerSec),
        formatMs(many.p50),
        formatMs(many.p99),
      ]
    }),
  }
  const targets: Target[] = [
    {
      name: 'tracing overhead at the L2 hit, p50 at 1 caller',
      measured: percent(overhead(1, 'p50')),
      target: '≤ 10 %',
      met: overhead(1, 'p50') <= 0.1,
    },
    {
      name: 'tracing overhead at the L2 hit, time/op at 64 callers',
      measured: percent(overhead(64, 'ops')),
      target: '≤ 10 %',
      met: overhead(64, 'ops') <= 0.1,
    },
  ]
  return {
    id: 'tracing',
    title: '8. Tracing overhead on the L2 hit path',
    method:
      'Two ormcache caches on the same Redis, primed with the same 100 keys; one has `instrumentCache` from ' +
      '@ormcache/core/otel with the real OpenTelemetry SDK (BasicTracerProvider + BatchSpanProcessor, a ' +
      'MeterProvider with a reader). Every read runs inside a request span under an AsyncLocalStorage context ' +
      'manager, for both cases. The cases are measured interleaved, with 1 and 64 concurrent callers.',
    tables: [table],
    targets,
    notes: [
      `The exporter drops batches, so the cost measured is making spans and recording metrics, not shipping them; ${spans} spans were exported. Loader runs during measurement: ${loads} (must be 0).`,
    ],
    data: Object.fromEntries([...results].map(([c, r]) => [`concurrency${c}`, r])),
  }
}
