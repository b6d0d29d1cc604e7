import { type Cache, type CacheOptions, createCache } from '@ormcache/core'
import { DataSource, type EntitySubscriberInterface } from 'typeorm'
import { type ReadEvent, type TypeormCacheOptions, typeormCache } from '../../src/index.js'
import { connectionOptions, type Dialect, ensureDatabase, QueryCounter } from './databases.js'
import { defineEntities, type Entities } from './entities.js'

export interface Harness {
  dialect: Dialect
  ds: DataSource
  cache: Cache
  e: Entities
  /** Statements sent to the database. */
  counter: QueryCounter
  reads: ReadEvent[]
  errors: unknown[]
  close(): Promise<void>
}

let counter = 0

export interface HarnessOptions {
  cache?: CacheOptions
  adapter?: Omit<TypeormCacheOptions, 'cache'>
  /** Extra subscriber classes, listed before the adapter's. */
  subscribers?: (new () => EntitySubscriberInterface)[]
  /** Keep existing tables and rows (a second DataSource on the same database). */
  keepSchema?: boolean
  sqliteFile?: string
}

/** A DataSource on the package's test database with the adapter installed; schema rebuilt unless kept. */
export async function openHarness(dialect: Dialect, options: HarnessOptions = {}): Promise<Harness> {
  await ensureDatabase(dialect)
  const cache = createCache({ namespace: `typeorm-test-${process.pid}-${++counter}`, ...options.cache })
  const e = defineEntities(dialect)
  const logger = new QueryCounter()
  const reads: ReadEvent[] = []
  const errors: unknown[] = []
  cache.on('error', (event) => errors.push(event.error))
  const orm = typeormCache({ cache, onRead: (event) => reads.push(event), ...options.adapter })
  const ds = new DataSource({
    ...connectionOptions(dialect, options.sqliteFile),
    entities: e.all,
    synchronize: options.keepSchema !== true,
    dropSchema: options.keepSchema !== true,
    logger,
    ...orm,
    subscribers: [...(options.subscribers ?? []), ...orm.subscribers],
  })
  await ds.initialize()
  return {
    dialect,
    ds,
    cache,
    e,
    counter: logger,
    reads,
    errors,
    async close() {
      await ds.destroy()
      await cache.close()
    },
  }
}

/** Counts database statements run by `fn`. */
export async function countQueries(h: Harness, fn: () => Promise<unknown>): Promise<number> {
  const before = h.counter.count
  await fn()
  return h.counter.count - before
}

export async function seed(h: Harness) {
  const { User, Post, Tag, Category } = h.e
  const [news, tech] = await h.ds.getRepository(Category).save([{ name: 'news' }, { name: 'tech' }])
  const [red, blue] = await h.ds.getRepository(Tag).save([{ label: 'red' }, { label: 'blue' }])
  const users = h.ds.getRepository(User)
  const alice = await users.save(
    users.create({
      name: 'alice',
      balance: '12.50',
      visits: '9007199254740993',
      avatar: Buffer.from([0, 1, 2, 255]),
      settings: { theme: 'dark', n: [1, 2] },
      lastSeen: new Date('2024-05-06T07:08:09.123Z'),
    }),
  )
  const bob = await users.save(users.create({ name: 'bob' }))
  const posts = h.ds.getRepository(Post)
  const p1 = await posts.save(
    posts.create({ title: 'hello', authorId: alice.id, category: news!, tags: [red!, blue!] }),
  )
  const p2 = await posts.save(
    posts.create({ title: 'world', authorId: alice.id, category: tech!, tags: [red!] }),
  )
  const p3 = await posts.save(posts.create({ title: 'bobs', authorId: bob.id, category: null, tags: [] }))
  await h.ds.getRepository(h.e.Membership).save([
    { userId: alice.id, groupCode: 'admins', role: 'owner' },
    { userId: bob.id, groupCode: 'admins', role: 'member' },
  ])
  return { alice, bob, p1, p2, p3, news: news!, tech: tech!, red: red!, blue: blue! }
}

export type Seeded = Awaited<ReturnType<typeof seed>>

/** Empties every table through the adapter (raw DELETEs, which it also sees). */
export async function wipe(h: Harness): Promise<void> {
  for (const table of [
    'app_post_tags',
    'app_posts',
    'app_memberships',
    'app_users',
    'app_tags',
    'app_categories',
  ]) {
    await h.ds.query(`DELETE FROM ${table}`)
  }
}

/** The dialect's placeholder for the n-th (1-based) parameter. */
export function param(h: Harness, n: number): string {
  return h.dialect === 'postgres' ? `$${n}` : '?'
}
