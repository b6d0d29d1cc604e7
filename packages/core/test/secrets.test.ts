import crypto from 'node:crypto'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, type OrmCacheError, StoreError, writeBehind } from '../src/exports/index.js'
import { memcachedStore } from '../src/exports/memcached.js'
import { redisStore, redisStreamQueue } from '../src/exports/redis.js'
import { redactCredentials } from '../src/redact.js'
import { freePort, type OwnedServer, redisAnswers, startServer } from './support/services.js'

/**
 * No error, event or log line carries a credential. Every error path that can see one (a
 * malformed URL, a bad cluster node, a Memcached `user:pass@` entry, a wrong password whose
 * ioredis error keeps the AUTH command and its arguments) is serialized the ways loggers do:
 * JSON.stringify, util.inspect (with causes) and String(), and searched for the secret.
 */
const SECRET = `S3cr3t-${crypto.randomBytes(6).toString('hex')}`
const found: string[] = []

/** Every way a logger might print `value`. */
function serializations(value: unknown): string[] {
  const out = [inspect(value, { depth: 20, showHidden: true }), inspect(value, { depth: 20 }), String(value)]
  try {
    out.push(
      JSON.stringify(value, (_key, v: unknown) =>
        v instanceof Error
          ? { ...v, message: v.message, stack: v.stack, cause: (v as { cause?: unknown }).cause }
          : v,
      ),
    )
  } catch {
    // circular: inspect above already covers it
  }
  return out
}

function expectNoSecret(label: string, value: unknown, secret = SECRET): void {
  for (const text of serializations(value)) {
    if (text.includes(secret)) found.push(`${label}: ${text.slice(0, 200)}`)
    expect(text, label).not.toContain(secret)
  }
}

function thrown(make: () => unknown): unknown {
  try {
    make()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('credentials in option errors', () => {
  const cases: [string, () => unknown][] = [
    ['malformed scheme', () => redisStore({ url: `redis:/u:${SECRET}@h` })],
    ['not a redis URL', () => redisStore({ url: `http://u:${SECRET}@h:6379` })],
    [
      'unparseable port',
      () => redisStore({ url: `redis://u:${SECRET}@127.0.0.1:notaport`, lazyConnect: true }),
    ],
    ['bad cluster node', () => redisStore({ url: `redis+cluster://u:${SECRET}@127.0.0.1:7000,bad node` })],
    [
      'bad cluster node after user info',
      () => redisStore({ url: `redis+cluster://u:${SECRET}@127.0.0.1:7000,h:99999x` }),
    ],
    [
      'password with a comma in a cluster URL',
      () => redisStore({ url: `redis+cluster://u:a,${SECRET}@h:1,[bad` }),
    ],
    ['memcached user:pass entry', () => memcachedStore({ servers: `u:${SECRET}@host:99999` })],
    ['memcached list entry', () => memcachedStore({ servers: ['127.0.0.1:11211', `u:${SECRET}@[::1`] })],
  ]
  it.each(cases)('%s: refused, and no serialization of the error holds the secret', (label, make) => {
    const error = thrown(make) as OrmCacheError
    expect(error.code).toBe('ERR_INVALID_OPTION')
    expectNoSecret(label, error)
  })

  it('redacts the user info of URLs and bare entries, malformed ones included', () => {
    expect(redactCredentials(`redis:/u:${SECRET}@h`)).toBe('redis:/***@h')
    expect(redactCredentials(`rediss://:${SECRET}@h:1/2`)).toBe('rediss://***@h:1/2')
    expect(redactCredentials(`redis+cluster://u:p,${SECRET}@h1:1,h2:2`)).toBe('redis+cluster://***@h1:1,h2:2')
    expect(redactCredentials(`a:${SECRET}@h:1,b:${SECRET}@h:2`)).toBe('***@h:1,***@h:2')
    expect(redactCredentials(`x "u:p@${SECRET}@h" y`)).toBe('x "***@***@h" y')
    expect(redactCredentials('no credentials here: 127.0.0.1:6379')).toBe(
      'no credentials here: 127.0.0.1:6379',
    )
  })
})

describe('credentials in store errors (a real Redis with requirepass)', () => {
  let server: OwnedServer
  beforeAll(async () => {
    const port = await freePort()
    server = await startServer(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        'right-one',
      ],
      port,
      () => redisAnswers('127.0.0.1', port),
    )
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('a wrong password: the error events, their causes and onError carry no password', async () => {
    const store = redisStore({
      url: `redis://:${SECRET}@127.0.0.1:${server.port}`,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    const hooked: OrmCacheError[] = []
    const cache = createCache({
      store,
      namespace: 'secrets',
      onError: (error) => hooked.push(error),
      lease: false,
    })
    const events: unknown[] = []
    cache.on('error', (event) => events.push(event))
    try {
      // Reads fail open to the loader; every failure is reported.
      expect(await cache.wrap('k', async () => 'from db')).toBe('from db')
      await cache.set('k', 'v').catch((error: unknown) => events.push({ thrown: error }))
      await cache.invalidateTags(['t']).catch((error: unknown) => events.push({ thrown: error }))
      expect(events.length).toBeGreaterThan(0)
      expect(hooked.length).toBeGreaterThan(0)
      // The raw ioredis error is there (as the cause), with the command name but not its arguments.
      const causes = hooked.filter((e) => e instanceof StoreError).map((e) => e.cause)
      expect(causes.length).toBeGreaterThan(0)
      for (const [i, event] of events.entries()) expectNoSecret(`event ${i}`, event)
      for (const [i, error] of hooked.entries()) expectNoSecret(`onError ${i}`, error)
      // The server did refuse the password, so the path under test really ran.
      expect(inspect(hooked, { depth: 20 })).toMatch(
        /WRONGPASS|NOAUTH|invalid password|invalid username-password/i,
      )
    } finally {
      await cache.close()
    }
  })

  it('a wrong password on the write-behind queue: write falls back, events carry no password', async () => {
    const store = redisStore({
      url: `redis://default:${SECRET}@127.0.0.1:${server.port}`,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    const cache = createCache({ store, namespace: 'secrets-wb', lease: false })
    const flushed: string[] = []
    const writer = writeBehind<string>({
      cache,
      queue: redisStreamQueue({ client: store.client, name: 'q', timeoutMs: 500 }),
      flush: (batch) => {
        flushed.push(...batch.map((item) => item.key))
      },
      flushIntervalMs: 3_600_000,
    })
    const events: unknown[] = []
    writer.on('error', (event) => events.push(event))
    writer.on('durability', (event) => events.push(event))
    cache.on('error', (event) => events.push(event))
    try {
      const ack = await writer.write('k', 'v').catch((error: unknown) => error)
      events.push(ack)
      await writer.flushNow().catch((error: unknown) => events.push(error))
      expect(events.length).toBeGreaterThan(0)
      for (const [i, event] of events.entries()) expectNoSecret(`write-behind event ${i}`, event)
    } finally {
      await writer.close().catch(() => {})
      await cache.close()
    }
  })

  it('found no secret in any serialized error', () => {
    console.log(`secrets: ${found.length} secrets found in serialized errors`)
    expect(found).toEqual([])
  })
})
