import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DemoConfig, parseDatabaseUrl } from '../../src/config.js'
import { createDemo, type Demo } from '../../src/demo.js'

export interface TestDemo extends Demo {
  /** One request through Fastify's inject (no socket): status, parsed JSON, and x-db-queries. */
  call(method: string, url: string, body?: unknown): Promise<Reply>
  get(url: string): Promise<Reply>
  /** Statements the database ran for an ORM so far (the dashboard's counter). */
  dbQueries(orm: 'prisma' | 'typeorm'): number
}

export interface Reply {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
  json: any
  dbQueries: number
  headers: Record<string, unknown>
}

const tempDirs: string[] = []

/**
 * A demo on its own SQLite file (or `database`), its own cache namespace and the in-memory store
 * unless told otherwise; timings are shortened so the strategies can be observed in a test.
 */
export async function startTestDemo(
  overrides: Partial<DemoConfig> & { databaseUrl?: string } = {},
): Promise<TestDemo> {
  const { databaseUrl, ...rest } = overrides
  let url = databaseUrl
  if (url === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'ormcache-demo-'))
    tempDirs.push(dir)
    url = `file:${join(dir, 'demo.db')}`
  }
  const config: DemoConfig = {
    database: parseDatabaseUrl(url),
    cacheUrl: 'memory',
    host: '127.0.0.1',
    port: 0,
    namespace: `demo-test-${randomUUID().slice(0, 8)}`,
    ttlMs: 60_000,
    trendingDelayMs: 50,
    trendingTtlMs: 60_000,
    trendingStaleMs: 60_000,
    // Tests flush the view counter themselves (flushNow) unless they want to watch the timer.
    viewFlushMs: 3_600_000,
    seed: true,
    reset: true,
    log: false,
    ...rest,
  }
  const demo = await createDemo(config)
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const response = await demo.app.inject({
      method: method as 'GET',
      url: path,
      ...(body === undefined
        ? {}
        : typeof body === 'string'
          ? { payload: body, headers: { 'content-type': 'application/json' } }
          : { payload: body as object }),
    })
    const text = response.body
    return {
      status: response.statusCode,
      json: text === '' ? undefined : JSON.parse(text),
      dbQueries: Number(response.headers['x-db-queries'] ?? Number.NaN),
      headers: response.headers,
    }
  }
  return Object.assign(demo, {
    call,
    get: (path: string) => call('GET', path),
    dbQueries: (orm: 'prisma' | 'typeorm') => demo.metrics.orms[orm].counters().dbQueries,
  })
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}
