import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { describe, expect, it } from 'vitest'
import type { ReadEvent } from '../src/index.js'
import { CATALOGUE, SHAPE, seedShape } from './support/catalogue.js'
import { type CachedClient, openHarness } from './support/clients.js'
import { openDatabase } from './support/databases.js'
import { postgresUrl } from './support/env.js'
import { requireRedis } from './support/redis.js'

const WORKERS = 4
const OPERATIONS_PER_WORKER = 1_000

interface WorkerResult {
  code: number | null
  stdout: string
  stderr: string
}

function runWorker(index: number, env: Record<string, string>): Promise<WorkerResult> {
  const script = fileURLToPath(new URL('./support/worker.ts', import.meta.url))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: {
        ...process.env,
        ...env,
        WORKER: String(index),
        SEED: String(1_000 + index),
        TSX_TSCONFIG_PATH: fileURLToPath(new URL('./support/tsconfig.worker.json', import.meta.url)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe.each(['rows', 'members'] as const)(
  'randomized run: 4 processes, one PostgreSQL database, one shared Redis cache, listTags %s',
  (listTags) => {
    it('after a few thousand concurrent reads and writes, every cached query equals the database', async () => {
      const url = await requireRedis()
      const namespace = `prisma-mp-${process.pid}-${Date.now()}`
      const database = await openDatabase('postgres')
      const reads: ReadEvent[] = []
      const cache = createCache({ store: redisStore({ url }), namespace })
      const h = await openHarness(database, { cache, listTags, onRead: (event) => reads.push(event) })
      try {
        await seedShape(h.db as unknown as CachedClient)
        const results = await Promise.all(
          Array.from({ length: WORKERS }, (_, i) =>
            runWorker(i, {
              NAMESPACE: namespace,
              OPERATIONS: String(OPERATIONS_PER_WORKER),
              LIST_TAGS: listTags,
              PG_URL: postgresUrl(),
              REDIS_URL: url,
            }),
          ),
        )
        const stats = results.map((result, i) => {
          expect(result.code, `worker ${i} failed:\n${result.stderr}`).toBe(0)
          return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, number>
        })
        const total = (name: string) => stats.reduce((sum, s) => sum + (s[name] ?? 0), 0)
        expect(total('reads') + total('writes') + total('failedWrites')).toBe(WORKERS * OPERATIONS_PER_WORKER)
        expect(total('writes')).toBeGreaterThan(500)
        expect(total('ownChecks')).toBeGreaterThan(50)
        expect(total('cache')).toBeGreaterThan(0) // the workers did hit each other's entries

        // Every catalogue query, for every id, through the shared cache vs the database.
        let checked = 0
        for (const [name, entry] of Object.entries(CATALOGUE)) {
          for (let id = 1; id <= SHAPE[entry.ids]; id++) {
            const cached = await entry.read(h.prisma, id)
            const fresh = await entry.read(h.db as unknown as CachedClient, id)
            expect(cached, `${name}(${id})`).toEqual(fresh)
            checked++
          }
        }
        const hits = reads.filter((r) => r.source === 'hit').length
        console.log(
          `multi-process: ${JSON.stringify(stats)}; verified ${checked} queries, ${hits} served from entries the workers left`,
        )
        expect(hits).toBeGreaterThan(0)
      } finally {
        await h.close()
        await cache.close()
        await database.close()
      }
    }, 300_000)
  },
)
