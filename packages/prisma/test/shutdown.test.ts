import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runToExit } from '../../core/test/support/run-to-exit.js'
import { requireRedis } from './support/redis.js'

const dir = mkdtempSync(join(tmpdir(), 'ormcache-prisma-shutdown-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function runChild(closeCache: boolean, redisUrl: string, graceMs: number) {
  return runToExit(
    fileURLToPath(new URL('./support/shutdown-child.ts', import.meta.url)),
    {
      REDIS_URL: redisUrl,
      NAMESPACE: `prisma-shutdown-${process.pid}-${closeCache}`,
      CLOSE_CACHE: String(closeCache),
      SQLITE_FILE: join(dir, `${closeCache}.db`),
    },
    graceMs,
    fileURLToPath(new URL('./support/tsconfig.worker.json', import.meta.url)),
  )
}

describe('shutdown', () => {
  it('a script that queries through a Redis cache and calls $disconnect() exits by itself', async () => {
    const url = await requireRedis()
    const exit = await runChild(true, url, 10_000)
    expect(exit.exited, `still running 10 s after its $disconnect(): ${exit.output}`).toBe(true)
    expect(exit.code, exit.output).toBe(0)
    expect(JSON.parse(exit.output.trim().split('\n')[0]!)).toEqual({ hits: 1 })
  }, 80_000)

  it('with closeCache: false the cache stays open (and keeps the process alive until cache.close())', async () => {
    const url = await requireRedis()
    const exit = await runChild(false, url, 3_000)
    expect(JSON.parse(exit.output.trim().split('\n')[0]!)).toEqual({ hits: 1 }) // it did run
    expect(exit.exited, exit.output).toBe(false)
  }, 80_000)
})
