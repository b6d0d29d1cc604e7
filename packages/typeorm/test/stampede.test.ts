import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { countQueries, type Harness, openHarness, seed } from './support/harness.js'
import { QueryProbe } from './support/probes.js'

describe.each(DIALECTS)('stampede control on %s', (dialect) => {
  let h: Harness
  let s: Awaited<ReturnType<typeof seed>>
  const probe = new QueryProbe()
  beforeAll(async () => {
    h = await openHarness(dialect, { adapter: { alwaysEnabled: true }, subscribers: [probe.subscriber()] })
    s = await seed(h)
  })
  afterAll(() => h?.close())

  it('a failing leader does not hang its followers: they run their own query', async () => {
    const users = h.ds.getRepository(h.e.User)
    await h.cache.clear()
    probe.failNext = /FROM .app_users./
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => users.findOneBy({ id: s.bob.id })),
    )
    const failed = outcomes.filter((o) => o.status === 'rejected')
    expect(failed).toHaveLength(1)
    expect(String((failed[0] as PromiseRejectedResult).reason)).toContain('injected query failure')
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') expect(outcome.value?.name).toBe('bob')
    }
    // The failure was not cached: the next read loads and fills, the one after is a hit.
    expect((await users.findOneBy({ id: s.bob.id }))?.name).toBe('bob')
    expect(await countQueries(h, () => users.findOneBy({ id: s.bob.id }))).toBe(0)
  })

  it('concurrent reads of different queries do not share a load', async () => {
    const users = h.ds.getRepository(h.e.User)
    await h.cache.clear()
    const [a, b] = await Promise.all([users.findOneBy({ id: s.alice.id }), users.findOneBy({ id: s.bob.id })])
    expect([a?.name, b?.name]).toEqual(['alice', 'bob'])
  })
})
