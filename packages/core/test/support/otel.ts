import { context, type Span, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

// Shared by the core, Prisma and TypeORM OpenTelemetry tests (imported by relative path).
/**
 * The real OpenTelemetry SDK with in-memory exporters, as an application would set it up (an
 * AsyncLocalStorage context manager, so spans started across awaits find their parent).
 */
export function otelSdk() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  })
  const meterProvider = new MeterProvider({ readers: [reader] })
  const tracer = tracerProvider.getTracer('test-app')
  return {
    tracerProvider,
    meterProvider,
    tracer,
    finished: (): ReadableSpan[] => spans.getFinishedSpans(),
    resetSpans: () => spans.reset(),
    /** Runs `run` inside an active span, like an HTTP server instrumentation around a request. */
    inSpan: <T>(name: string, run: (span: Span) => Promise<T>): Promise<T> =>
      tracer.startActiveSpan(name, async (span) => {
        try {
          return await run(span)
        } finally {
          span.end()
        }
      }),
    /** Collects and exports the metrics now; returns the last export. */
    async metrics(): Promise<ResourceMetrics> {
      metricExporter.reset()
      await reader.forceFlush()
      const exported = metricExporter.getMetrics()
      return exported[exported.length - 1]!
    },
    async shutdown() {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
      context.disable()
      trace.disable()
    },
  }
}

export type OtelSdk = ReturnType<typeof otelSdk>

/** Data points of one metric, as (attributes, value) pairs; histogram values are their counts. */
export function points(
  exported: ResourceMetrics,
  name: string,
): { attributes: Record<string, unknown>; value: number; sum?: number }[] {
  for (const scope of exported.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue
      return metric.dataPoints.map((point) => {
        const value = point.value as number | { count: number; sum?: number }
        return typeof value === 'number'
          ? { attributes: { ...point.attributes }, value }
          : {
              attributes: { ...point.attributes },
              value: value.count,
              ...(value.sum === undefined ? {} : { sum: value.sum }),
            }
      })
    }
  }
  return []
}

/** Span children of `parent` by name. */
export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)
}
