import { In } from 'typeorm'
import { describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { countQueries, type Harness, type Seeded } from './support/harness.js'
import { QueryProbe } from './support/probes.js'
import { seededHarness } from './support/seeded-harness.js'
import { gate } from './support/stores.js'

/** @ManyToMany loads through the junction TypeORM created (docs/design.md, "Many-to-many relations"). */
describe.each(DIALECTS)('many-to-many loads on %s', (dialect) => {
  let h: Harness
  let s: Seeded
  const probe = new QueryProbe()
  // p1 has tags red and blue, p2 red, p3 none (harness.ts).
  seededHarness(dialect, 'typeorm-m2m', probe, (harness, seeded) => {
    h = harness
    s = seeded
  })

  const posts = () => h.ds.getRepository(h.e.Post)
  const tags = () => h.ds.getRepository(h.e.Tag)
  const postTags = () => h.ds.createQueryBuilder().relation(h.e.Post, 'tags')
  const tagPosts = () => h.ds.createQueryBuilder().relation(h.e.Tag, 'posts')
  const postsWithTags = (cache = true) =>
    posts().find({
      where: { id: In([s.p1.id, s.p3.id]) },
      relations: { tags: true },
      order: { id: 'ASC', tags: { id: 'ASC' } },
      cache,
    })
  // The inverse side: the same junction joined on its other column.
  const redWithPosts = (cache = true) =>
    tags().find({
      where: { id: s.red.id },
      relations: { posts: true },
      order: { id: 'ASC', posts: { id: 'ASC' } },
      cache,
    })
  const joined = (cache = true) =>
    h.ds
      .createQueryBuilder(h.e.Post, 'p')
      .leftJoinAndSelect('p.tags', 't')
      .where('p.id IN (:...ids)', { ids: [s.p1.id, s.p3.id] })
      .orderBy('p.id', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .cache(cache)
      .getMany()
  const q = (name: string) => (dialect === 'mysql' ? `\`${name}\`` : `"${name}"`)

  async function queriesAfter(read: () => Promise<unknown>, write: () => Promise<unknown>): Promise<number> {
    await read()
    expect(await countQueries(h, read), 'cached before the write').toBe(0)
    await write()
    return countQueries(h, read)
  }

  it('depends on the junction rows of the loaded parents, not on the junction or target table', async () => {
    for (const read of [postsWithTags, redWithPosts, joined]) {
      await read()
      const deps = h.reads.at(-1)!.tags
      expect(deps).not.toContain('t:app_post_tags')
      expect(deps).not.toContain('t:app_tags')
      expect(deps).toContain('b:app_post_tags')
    }
    expect(h.reads.at(-1)!.tags).toContain('a:app_post_tags:apppostsid')
  })

  const unrelated: Record<string, [(cache?: boolean) => Promise<unknown>, () => Promise<unknown>]> = {
    'a tag added to a post outside the list': [postsWithTags, () => postTags().of(s.p2.id).add(s.blue.id)],
    'a tag removed from a post outside the list': [
      postsWithTags,
      () => postTags().of(s.p2.id).remove(s.red.id),
    ],
    'a post outside the list linked from the tag side': [
      postsWithTags,
      () => tagPosts().of(s.blue.id).add(s.p2.id),
    ],
    'save of a post outside the list with a changed tag array': [
      postsWithTags,
      async () => {
        const p2 = await posts().findOneOrFail({ where: { id: s.p2.id }, relations: { tags: true } })
        await posts().save({ ...p2, tags: [s.blue] })
      },
    ],
    'a new tag created and renamed': [
      postsWithTags,
      async () => {
        const green = await tags().save({ label: 'green' })
        await tags().update(green.id, { label: 'lime' })
      },
    ],
    'another tag linked to a post (seen from the tag)': [
      redWithPosts,
      () => postTags().of(s.p3.id).add(s.blue.id),
    ],
    'a post outside the list linked (QueryBuilder join)': [
      joined,
      () => postTags().of(s.p2.id).add(s.blue.id),
    ],
  }

  it.each(Object.entries(unrelated))('%s leaves it cached (0 queries)', async (_n, [read, write]) => {
    expect(await queriesAfter(read, write)).toBe(0)
    expect(await read()).toEqual(await read(false))
  })

  const relevant: Record<string, () => Promise<unknown>> = {
    'a tag added to a loaded post': () => postTags().of(s.p3.id).add(s.red.id),
    'a tag removed from a loaded post': () => postTags().of(s.p1.id).remove(s.red.id),
    'a loaded post linked from the tag side': () => tagPosts().of(s.red.id).add(s.p3.id),
    'a loaded link removed from the tag side': () => tagPosts().of(s.red.id).remove(s.p1.id),
    'save of a loaded post with a changed tag array': async () => {
      const p1 = await posts().findOneOrFail({ where: { id: s.p1.id }, relations: { tags: true } })
      await posts().save({ ...p1, tags: [s.blue] })
    },
    'addAndRemove (set) on a loaded post': () =>
      postTags().of(s.p1.id).addAndRemove([], [s.red.id, s.blue.id]),
    'a loaded tag renamed': () => tags().update(s.red.id, { label: 'crimson' }),
    'a loaded tag deleted': () => tags().delete(s.red.id),
    'raw SQL on the junction': () =>
      h.ds.query(`DELETE FROM app_post_tags WHERE ${q('appTagsId')} = ${s.red.id}`),
  }

  describe.each([
    ['posts with their tags', postsWithTags],
    ['a tag with its posts', redWithPosts],
    ['a QueryBuilder join', joined],
  ] as const)('%s', (_name, read) => {
    it.each(Object.entries(relevant))(
      '%s refreshes it (fresh against an uncached read)',
      async (_n, write) => {
        const before = await read(false)
        expect(await queriesAfter(read, write)).toBeGreaterThan(0)
        const after = await read(false)
        expect(after, 'the write changes the result').not.toEqual(before)
        expect(await read()).toEqual(after)
      },
    )
  })

  const raced: Record<string, () => Promise<unknown>> = {
    'a tag is added to a loaded post': () => postTags().of(s.p3.id).add(s.red.id),
    'a loaded link is removed': () => postTags().of(s.p1.id).remove(s.blue.id),
    'a loaded tag changes': () => tags().update(s.red.id, { label: 'raced' }),
  }

  it.each(Object.entries(raced))(
    'race: %s between the snapshot and the fill — never stale',
    async (_n, write) => {
      const before = await postsWithTags(false)
      const reached = gate()
      const release = gate()
      probe.pauseNext = { match: /LEFT JOIN .app_post_tags./, until: release.promise, reached: reached.open }
      const slow = postsWithTags()
      await reached.promise
      await write()
      release.open()
      expect(await slow).toEqual(before)
      let next: unknown
      expect(await countQueries(h, async () => (next = await postsWithTags()))).toBeGreaterThan(0)
      expect(next).toEqual(await postsWithTags(false))
      expect(next).not.toEqual(before)
      expect(await countQueries(h, () => postsWithTags())).toBe(0)
    },
  )
})
