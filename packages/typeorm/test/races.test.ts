import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { type Harness, openHarness, param, type Seeded, seed, wipe } from './support/harness.js'
import { QueryProbe } from './support/probes.js'
import { gate, InstrumentedStore } from './support/stores.js'

describe.each(DIALECTS)('races on %s', (dialect) => {
  let h: Harness
  let store: InstrumentedStore
  const probe = new QueryProbe()
  beforeAll(async () => {
    store = new InstrumentedStore()
    h = await openHarness(dialect, {
      cache: { store },
      adapter: { alwaysEnabled: true },
      subscribers: [probe.subscriber()],
    })
  })
  afterAll(() => h?.close())

  async function fresh(): Promise<Seeded> {
    await wipe(h)
    const s = await seed(h)
    await h.cache.clear()
    return s
  }
  const users = () => h.ds.getRepository(h.e.User)
  const name = (id: number) =>
    users()
      .findOneBy({ id })
      .then((u) => u?.name)

  it.each([
    [
      'a primary-key lookup',
      (s: Seeded) =>
        users()
          .findOneBy({ id: s.alice.id })
          .then((u) => u?.name),
    ],
    [
      'a list',
      (_: Seeded) =>
        users()
          .find({ order: { id: 'ASC' } })
          .then((list) => list[0]?.name),
    ],
  ])('%s that loaded before a write cannot store its old rows past the write', async (_, read) => {
    const s = await fresh()
    const reached = gate()
    const release = gate()
    probe.pauseNext = { match: /FROM .app_users./, until: release.promise, reached: reached.open }
    const slowRead = read(s) // snapshot taken, SELECT ran, paused before the store
    await reached.promise
    await users().update(s.alice.id, { name: 'after-write' })
    release.open()
    expect(await slowRead).toBe('alice') // it started before the write: old data is allowed
    expect(await read(s)).toBe('after-write') // but it left nothing stale behind
  })

  /** TypeORM 0.3 does not await afterQuery hooks on MySQL and SQLite (1.x and PostgreSQL do). */
  const rawWritesAwaited = process.env.ORMCACHE_TYPEORM_VERSION !== '0.3' || dialect === 'postgres'

  it.each([
    [
      'a repository write',
      true,
      (h: Harness, s: Seeded) => h.ds.getRepository(h.e.User).update(s.alice.id, { name: 'after-write' }),
    ],
    [
      'a transaction',
      true,
      (h: Harness, s: Seeded) =>
        h.ds.transaction((em) => em.update(h.e.User, s.alice.id, { name: 'after-write' })),
    ],
    [
      'a raw SQL write',
      false,
      (h: Harness, s: Seeded) =>
        h.ds.query(`UPDATE app_users SET name = ${param(h, 1)} WHERE id = ${param(h, 2)}`, [
          'after-write',
          s.alice.id,
        ]),
    ],
  ])(
    '%s paused between commit and invalidation: no reader that starts after it resolves sees old data',
    async (_, alwaysAwaited, write) => {
      const s = await fresh()
      expect(await name(s.alice.id)).toBe('alice') // cached
      const hold = gate()
      const atStore = gate()
      store.holdInvalidations = hold.promise
      store.onInvalidation = atStore.open
      let resolved = false
      const writing = write(h, s).then(() => {
        resolved = true
      })
      try {
        await atStore.promise // committed; the invalidation is on its way to the store
        const committed = await users().findOne({ where: { id: s.alice.id }, cache: false })
        expect(committed?.name).toBe('after-write')
        await new Promise((resolve) => setTimeout(resolve, 20))
        if (alwaysAwaited || rawWritesAwaited) {
          expect(resolved).toBe(false) // the write's promise waits for its invalidation
          const during = name(s.alice.id) // started before the write resolved: may see either
          hold.open()
          await writing
          expect(['alice', 'after-write']).toContain(await during)
        } else {
          // TypeORM resolved the write early; a reader in this process still waits for the invalidation.
          await writing
          const after = name(s.alice.id)
          hold.open()
          expect(await after).toBe('after-write')
        }
      } finally {
        store.holdInvalidations = undefined
        store.onInvalidation = undefined
        hold.open()
      }
      expect(resolved).toBe(true)
      expect(await name(s.alice.id)).toBe('after-write')
    },
  )

  it('a randomized concurrent run ends with cache == database', async () => {
    const s = await fresh()
    let seedValue = 42
    const random = (n: number) => {
      seedValue = (seedValue * 1103515245 + 12345) % 2 ** 31
      return seedValue % n
    }
    const ids = [s.alice.id, s.bob.id]
    const postIds = [s.p1.id, s.p2.id, s.p3.id]
    const readers = {
      user: (id: number, cache: boolean) => users().findOne({ where: { id }, cache }),
      list: (cache: boolean) => users().find({ order: { id: 'ASC' }, cache }),
      posts: (cache: boolean) =>
        h.ds.getRepository(h.e.Post).find({ relations: { author: true }, order: { id: 'ASC' }, cache }),
      post: (id: number, cache: boolean) =>
        h.ds.createQueryBuilder(h.e.Post, 'p').where('p.id = :id', { id }).cache(cache).getOne(),
    }
    const op = async (i: number) => {
      const id = ids[random(ids.length)]!
      const postId = postIds[random(postIds.length)]!
      switch (random(8)) {
        case 0:
          return users().update(id, { name: `n${i}` })
        case 1:
          return h.ds.getRepository(h.e.Post).increment({ id: postId }, 'likes', 1)
        case 2:
          return h.ds.transaction(async (em) => {
            await em.update(h.e.User, id, { name: `t${i}` })
            await em.update(h.e.Post, postId, { title: `t${i}` })
          })
        case 3:
          return h.ds.query(`UPDATE app_posts SET likes = likes + 10 WHERE id = ${postId}`)
        case 4:
          return readers.list(true)
        case 5:
          return readers.posts(true)
        case 6:
          return readers.post(postId, true)
        default:
          return readers.user(id, true)
      }
    }
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 12 }, (_, i) => op(round * 100 + i)))
    }
    for (const id of ids) expect(await readers.user(id, true)).toEqual(await readers.user(id, false))
    for (const id of postIds) expect(await readers.post(id, true)).toEqual(await readers.post(id, false))
    expect(await readers.list(true)).toEqual(await readers.list(false))
    expect(await readers.posts(true)).toEqual(await readers.posts(false))
    expect(h.errors).toEqual([])
  })
})
