import { describe, expect, it } from 'vitest'
import { storeFromUrl } from '../src/cache/store-from-url.js'
import { configFromEnv, parseDatabaseUrl } from '../src/config.js'
import { ConfigError } from '../src/errors.js'
import { demoPath } from '../src/paths.js'

describe('configuration from the environment', () => {
  it('defaults to the embedded SQLite file and the in-memory store', () => {
    const config = configFromEnv({})
    expect(config.database).toEqual({
      dialect: 'sqlite',
      url: demoPath('.data', 'demo.db'),
      display: `sqlite:${demoPath('.data', 'demo.db')}`,
    })
    expect(config).toMatchObject({
      cacheUrl: 'memory',
      host: '127.0.0.1',
      port: 3000,
      namespace: 'demo',
      seed: true,
      reset: false,
    })
  })

  it('switches to PostgreSQL and never shows the password', () => {
    expect(parseDatabaseUrl('postgres://app:s3cret@db.local:5432/blog')).toEqual({
      dialect: 'postgres',
      url: 'postgres://app:s3cret@db.local:5432/blog',
      display: 'postgres://app:***@db.local:5432/blog',
    })
  })

  it.each([
    [
      { DATABASE_URL: 'mysql://root@127.0.0.1/test' },
      'DATABASE_URL: "mysql://***@127.0.0.1/test" is neither postgres://… nor file:<sqlite path>',
    ],
    [{ DATABASE_URL: 'file:' }, 'DATABASE_URL: file: needs a path, e.g. file:./demo.db'],
    [{ PORT: 'eighty' }, 'PORT: "eighty" must be an integer between 0 and 65535'],
    [{ PORT: '70000' }, 'PORT: "70000" must be an integer between 0 and 65535'],
    [{ CACHE_TTL_MS: '0' }, 'CACHE_TTL_MS: "0" must be an integer between 1 and 9007199254740991'],
  ])('refuses %j with a ConfigError', (env, message) => {
    expect(() => configFromEnv(env)).toThrow(ConfigError)
    expect(() => configFromEnv(env)).toThrow(message)
  })
})

describe('CACHE_URL', () => {
  it('memory is the default store', async () => {
    const choice = storeFromUrl('memory')
    expect(choice.kind).toBe('memory')
    await choice.store.close()
  })

  it.each([
    ['redis://:hunter2@127.0.0.1:6379', 'redis', 'redis://***@127.0.0.1:6379'],
    [
      'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
      'redis-cluster',
      'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
    ],
    [
      'memcached://127.0.0.1:11211,127.0.0.1:11212',
      'memcached',
      'memcached://127.0.0.1:11211,127.0.0.1:11212',
    ],
  ])('%s is a %s store, shown as %s', async (url, kind, display) => {
    const choice = storeFromUrl(url)
    expect(choice.kind).toBe(kind)
    expect(choice.display).toBe(display)
    await choice.store.close()
  })

  it.each([
    ['mongodb://127.0.0.1', 'is not one of memory, redis://…'],
    ['memcached://', 'memcached:// needs at least one host:port'],
  ])('refuses %s', (url, message) => {
    expect(() => storeFromUrl(url)).toThrow(ConfigError)
    expect(() => storeFromUrl(url)).toThrow(message)
  })

  // Regression: the refusal repeated the whole URL, password included.
  it.each(['redis:/u:SECRET@h', 'mongodb://admin:SECRET@127.0.0.1', 'nope://:SECRET@w@h'])(
    'never repeats the password of %s',
    (url) => {
      let error: unknown
      try {
        storeFromUrl(url)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect(String((error as Error).message)).not.toContain('SECRET')
    },
  )

  it("never shows a Memcached entry's user info", async () => {
    const choice = storeFromUrl('memcached://u:SECRET@127.0.0.1:11211')
    expect(choice.display).toBe('memcached://***@127.0.0.1:11211')
    await choice.store.close()
  })
})
