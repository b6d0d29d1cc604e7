/**
 * A script as a user writes it: one cached query, `dataSource.destroy()`, and nothing else — no
 * `cache.close()`, no `process.exit()`. The shutdown test checks that it exits by itself.
 */
import 'reflect-metadata'
import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { DataSource, EntitySchema } from 'typeorm'
import { typeormCache } from '../../src/index.js'

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`shutdown child needs ${name}`)
  return value
}
const Note = new EntitySchema<{ id: number; body: string }>({
  name: 'Note',
  tableName: 'shutdown_notes',
  columns: { id: { type: 'int', primary: true }, body: { type: 'text' } },
})
const cache = createCache({ store: redisStore({ url: env('REDIS_URL') }), namespace: env('NAMESPACE') })
const dataSource = await new DataSource({
  type: 'better-sqlite3',
  database: env('SQLITE_FILE'),
  entities: [Note],
  synchronize: true,
  ...typeormCache({ cache, closeCache: env('CLOSE_CACHE') === 'true' }),
}).initialize()
await dataSource.getRepository(Note).save({ id: 1, body: 'hello' })
await dataSource.getRepository(Note).find({ cache: true })
await dataSource.getRepository(Note).find({ cache: true })
console.log(JSON.stringify({ hits: cache.stats().hits }))
await dataSource.destroy()
