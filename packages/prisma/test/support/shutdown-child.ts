/**
 * A script as a user writes it: one cached query, `$disconnect()`, and nothing else — no
 * `cache.close()`, no `process.exit()`. The shutdown test checks that it exits by itself.
 */
import { readFileSync } from 'node:fs'
import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import Database from 'better-sqlite3'
import { cacheExtension } from '../../src/index.js'
import { PrismaClient } from '../generated/sqlite/client/client.ts'

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`shutdown child needs ${name}`)
  return value
}
const file = env('SQLITE_FILE')
const setup = new Database(file)
setup.exec(readFileSync(new URL('../schema/sqlite.sql', import.meta.url), 'utf8'))
setup.close()

const cache = createCache({ store: redisStore({ url: env('REDIS_URL') }), namespace: env('NAMESPACE') })
const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
const prisma = base.$extends(cacheExtension({ cache, closeCache: env('CLOSE_CACHE') === 'true' }))
await prisma.user.findMany()
await prisma.user.findMany()
console.log(JSON.stringify({ hits: cache.stats().hits }))
await prisma.$disconnect()
