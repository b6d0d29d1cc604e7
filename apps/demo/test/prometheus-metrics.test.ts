import { afterAll, beforeAll, expect, it } from 'vitest'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'

let demo: TestDemo

beforeAll(async () => {
  demo = await startTestDemo()
})

afterAll(async () => {
  await demo?.close()
  removeTempDirs()
})

/** `name{labels} value` lines of the exposition, for one metric. */
function samples(text: string, name: string): { labels: string; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const at = line.lastIndexOf(' ')
      return { labels: line.slice(name.length, at), value: Number(line.slice(at + 1)) }
    })
}

it('GET /metrics serves both caches in Prometheus text format, per ORM and model', async () => {
  for (const orm of ['prisma', 'typeorm']) {
    await demo.get(`/${orm}/users/3`)
    await demo.get(`/${orm}/users/3`)
  }
  const reply = await demo.app.inject({ method: 'GET', url: '/metrics' })
  expect(reply.statusCode).toBe(200)
  expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  const text = reply.body
  expect(text).toContain('# TYPE ormcache_reads_total counter')
  expect(text).toContain('# TYPE ormcache_read_duration_seconds histogram')
  const hits = samples(text, 'ormcache_reads_total').filter((s) => s.labels.includes('source="hit"'))
  expect(
    hits.find((s) => s.labels.includes('cache="prisma"') && s.labels.includes('model="User"'))?.value,
  ).toBeGreaterThanOrEqual(1)
  expect(hits.find((s) => s.labels.includes('cache="typeorm"'))?.value).toBeGreaterThanOrEqual(1)
  expect(samples(text, 'ormcache_breaker_state').map((s) => s.value)).toEqual([0, 0])
})
