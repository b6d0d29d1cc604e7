import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { requireRedis } from './support/redis.js'

const dir = mkdtempSync(join(tmpdir(), 'ormcache-prisma-shutdown-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * Runs the child to its exit; if it still runs `graceMs` after it printed its result (its
 * queries and `$disconnect()` are done by then), kills it and reports `exited: false`.
 */
function runChild(closeCache: boolean, redisUrl: string, graceMs: number) {
  const script = fileURLToPath(new URL('./support/shutdown-child.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      NAMESPACE: `prisma-shutdown-${process.pid}-${closeCache}`,
      CLOSE_CACHE: String(closeCache),
      SQLITE_FILE: join(dir, `${closeCache}.db`),
      TSX_TSCONFIG_PATH: fileURLToPath(new URL('./support/tsconfig.worker.json', import.meta.url)),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let timer: NodeJS.Timeout | undefined
  return new Promise<{ exited: boolean; code: number | null; output: string }>((resolve) => {
    let exited = true
    const giveUp = () => {
      exited = false
      child.kill('SIGKILL')
    }
    // A child that never gets as far as printing is stopped too (60 s), and fails on its output.
    timer = setTimeout(giveUp, 60_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      if (!output.includes('\n')) return
      clearTimeout(timer)
      timer = setTimeout(giveUp, graceMs)
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      // Let the pipes drain.
      setImmediate(() => resolve({ exited, code, output }))
    })
  })
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
