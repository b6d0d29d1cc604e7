import { createCache } from '@ormcache/core'
import { DataSource, EntitySchema } from 'typeorm'
import { describe, expect, it } from 'vitest'
import { type TypeormCacheOptions, typeormCache } from '../src/index.js'

describe('typeormCache options', () => {
  const cache = createCache()
  const invalid = (options: unknown, option: string) =>
    expect(() => typeormCache(options as TypeormCacheOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }),
    )

  it('rejects bad options with typed errors', () => {
    invalid(undefined, 'options')
    invalid({}, 'cache')
    invalid({ cache: {} }, 'cache')
    invalid({ cache, ttl: 0 }, 'ttl')
    invalid({ cache, ttl: Number.NaN }, 'ttl')
    invalid({ cache, alwaysEnabled: 'yes' }, 'alwaysEnabled')
    invalid({ cache, keyPrefix: '' }, 'keyPrefix')
    invalid({ cache, views: { v: 'app_users' } }, 'views.v')
    invalid({ cache, onRead: 1 }, 'onRead')
    invalid({ cache, tll: 5 }, 'tll')
    invalid({ cache, listTags: 'all' }, 'listTags')
    expect(() => typeormCache({ cache, listTags: 'members' })).not.toThrow()
  })

  it('returns what DataSourceOptions expects, and combines with other subscribers', () => {
    const orm = typeormCache({ cache, ttl: 5_000, alwaysEnabled: true })
    expect(orm.cache.alwaysEnabled).toBe(true)
    expect(orm.cache.duration).toBe(5_000)
    expect(orm.subscribers).toHaveLength(1)
    expect(typeormCache({ cache }).cache).toMatchObject({ alwaysEnabled: false, duration: 60_000 })
    const ds = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      ...orm,
      subscribers: [...orm.subscribers],
    })
    expect(ds.queryResultCache).toBeDefined()
  })

  it('refuses databases whose SQL it cannot analyse, when the DataSource is built', () => {
    // (No SQL Server driver is installed here, so the provider factory is called as TypeORM would.)
    const oracle = { options: { type: 'oracle' } } as unknown as DataSource
    expect(() => typeormCache({ cache }).cache.provider(oracle)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'DataSource.type' }),
    )
  })

  it('refuses a per-query cache lifetime that is not a positive number of ms, as Prisma does', async () => {
    const Note = new EntitySchema<{ id: number; body: string }>({
      name: 'OptionsNote',
      tableName: 'options_note',
      columns: { id: { type: Number, primary: true }, body: { type: String } },
    })
    const orm = typeormCache({ cache: createCache(), ttl: 5_000 })
    const ds = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [Note],
      synchronize: true,
      ...orm,
    })
    await ds.initialize()
    try {
      const repo = ds.getRepository(Note)
      await repo.insert({ id: 1, body: 'x' })
      // The same rule and words as Prisma's `cache: { ttl: -5 }` ("cache.ttl"): core's durationMs.
      const message = 'must be a positive finite number of ms, at most 315360000000'
      // (0 and NaN never reach the provider: TypeORM replaces a falsy lifetime with the configured one.)
      for (const bad of [-5, -0.5, 1e19]) {
        await expect(repo.find({ cache: bad })).rejects.toMatchObject({
          code: 'ERR_INVALID_OPTION',
          option: 'cache',
          message: `Invalid option "cache": ${message}`,
        })
      }
      await expect(repo.find({ cache: { id: 'notes', milliseconds: -1 } })).rejects.toMatchObject({
        option: 'cache',
      })
      expect(await repo.find({ cache: 1_000 })).toEqual([{ id: 1, body: 'x' }])
      expect(await repo.find({ cache: true })).toEqual([{ id: 1, body: 'x' }])
    } finally {
      await ds.destroy()
    }
  })
})
