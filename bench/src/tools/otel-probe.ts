/**
 * Probe for the tracing scenario's overhead (issue 16): the same hits as `tracing`, with
 * OpenTelemetry on vs off, interleaved in blocks of 1000, reporting wall and process CPU per op
 * and socket writes per op (so a lost hit batch or pipeline would show). Not part of the suite.
 *   CALLERS=64 node --expose-gc --import tsx src/tools/otel-probe.ts <memory|redis> <N> <both|traces|metrics> [on|off]
 * The last argument measures one case only, for a clean `--cpu-prof` of it.
 */
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
import { ormcacheCache } from '../subjects/ormcache-caches.js'

const variant = (process.argv[2] ?? 'memory') as 'memory' | 'redis'
const N = Number(process.argv[3] ?? 20000)
const mode = process.argv[4] ?? 'both' // both | traces | metrics
const KEYS = 100
const tagsFor = (id: number) => [rowTag('bench_user', { id }), bulkTag('bench_user')]

class DiscardingExporter implements SpanExporter {
  exported = 0
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.exported += spans.length
    done({ code: 0 })
  }
  shutdown() {
    return Promise.resolve()
  }
}
class PullReader extends MetricReader {
  protected onShutdown() {
    return Promise.resolve()
  }
  protected onForceFlush() {
    return Promise.resolve()
  }
}

const cm = new AsyncLocalStorageContextManager().enable()
context.setGlobalContextManager(cm)
const exporter = new DiscardingExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
const meterProvider = new MeterProvider({ readers: [new PullReader()] })
const prefix = `probe${process.pid}`
const off = ormcacheCache(variant, `${prefix}.off`)
const on = ormcacheCache(variant, `${prefix}.on`)
const otel = instrumentCache(on, {
  tracerProvider,
  meterProvider,
  traces: mode !== 'metrics',
  metrics: mode !== 'traces',
})
for (const cache of [off, on])
  for (let id = 0; id < KEYS; id++)
    await cache.wrap(`user:${id}`, async () => payloadFor(id), { tags: tagsFor(id) })
const span = tracerProvider.getTracer('bench-http').startSpan('GET /users/:id')
const inRequest = trace.setSpan(context.active(), span)
const load = async () => {
  throw new Error('loader ran')
}
const read = (cache: typeof on, i: number) => {
  const id = i % KEYS
  return context.with(inRequest, () =>
    cache.wrap(`user:${id}`, load, { tags: tagsFor(id), model: 'User', operation: 'findUnique' }),
  )
}
const gc = (globalThis as { gc?: () => void }).gc
const totals = { off: { wall: 0, cpu: 0, n: 0 }, on: { wall: 0, cpu: 0, n: 0 } }
const BLOCK = 1000
const CALLERS = Number(process.env.CALLERS ?? 1)
const writes = { off: 0, on: 0 }
let writing: 'off' | 'on' = 'off'
const { Socket } = await import('node:net')
const write = Socket.prototype.write
Socket.prototype.write = function (this: InstanceType<typeof Socket>, ...args: unknown[]) {
  writes[writing]++
  return (write as (...a: unknown[]) => boolean).apply(this, args)
} as typeof write
async function block(name: 'off' | 'on', cache: typeof on, start: number) {
  gc?.()
  writing = name
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let next = start
  const caller = async () => {
    while (next < start + BLOCK) await read(cache, next++)
  }
  await Promise.all(Array.from({ length: CALLERS }, caller))
  const t = performance.now() - t0
  const c = process.cpuUsage(c0)
  totals[name].wall += t
  totals[name].cpu += (c.user + c.system) / 1000
  totals[name].n += BLOCK
}
// warm-up
for (let b = 0; b < 5; b++) {
  await block('off', off, b * BLOCK)
  await block('on', on, b * BLOCK)
}
for (const k of ['off', 'on'] as const) {
  totals[k] = { wall: 0, cpu: 0, n: 0 }
  writes[k] = 0
}
const only = process.argv[5]
for (let b = 0; b < N / BLOCK; b++) {
  if (only === 'on') await block('on', on, b * BLOCK)
  else if (only === 'off') await block('off', off, b * BLOCK)
  else if (b % 2 === 0) {
    await block('off', off, b * BLOCK)
    await block('on', on, b * BLOCK)
  } else {
    await block('on', on, b * BLOCK)
    await block('off', off, b * BLOCK)
  }
}
for (const k of ['off', 'on'] as const) {
  const t = totals[k]
  if (t.n === 0) continue
  console.log(
    `${variant} ${mode} c=${CALLERS} ${k}: wall ${((t.wall / t.n) * 1000).toFixed(2)} µs/op, cpu ${((t.cpu / t.n) * 1000).toFixed(2)} µs/op, socket writes/op ${(writes[k] / t.n).toFixed(3)}`,
  )
}
console.log(
  `overhead wall ${((totals.on.wall / totals.off.wall - 1) * 100).toFixed(1)} %, cpu ${((totals.on.cpu / totals.off.cpu - 1) * 100).toFixed(1)} %`,
)
span.end()
otel.close()
await off.close()
await on.close()
await tracerProvider.shutdown()
await meterProvider.shutdown()
