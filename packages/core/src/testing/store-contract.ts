import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CacheStore } from '../store/types.js'

/** The subset of vitest / node:test / jest the suite needs, passed in so it binds to none. */
export interface ContractRunner {
  describe(name: string, body: () => void): void
  it(name: string, body: () => Promise<void> | void, timeoutMs?: number): void
  beforeAll(body: () => Promise<void> | void, timeoutMs?: number): void
  afterAll(body: () => Promise<void> | void, timeoutMs?: number): void
}

export type StoreFactory = () => Promise<CacheStore> | CacheStore

export interface ContractOptions {
  /** Extra wait for TTL checks on stores with coarse expiry (Memcached counts in seconds). */
  ttlResolutionMs?: number
  /**
   * The store offers the plain hit read (`readHit`, with versions a plain read can trust): the
   * suite then checks its answers, and checks that a store declared without it offers none.
   */
  plainHitRead?: boolean
}

/**
 * The behaviour every `CacheStore` must have for the cache's protocol to be correct: exact
 * string round trips, batched reads in order, TTLs, and atomic add / compare-and-set /
 * delete-if-equals. Run it against a real backend:
 *
 *   runStoreContract('redis', () => redisStore({ url }), { describe, it, beforeAll, afterAll })
 */
export function runStoreContract(
  name: string,
  factory: StoreFactory,
  runner: ContractRunner,
  options: ContractOptions = {},
): void {
  const { describe, it, beforeAll, afterAll } = runner
  const resolution = options.ttlResolutionMs ?? 0
  let store: CacheStore
  // Unique per run, so a shared server never leaks state between runs or parallel suites.
  const prefix = `contract:${crypto.randomBytes(6).toString('hex')}:`
  // Every key the suite touches, removed when it ends: a shared server keeps nothing of a run.
  const touched = new Set<string>()
  const key = (suffix: string) => {
    const full = `${prefix}${suffix}`
    touched.add(full)
    return full
  }

  describe(`store contract: ${name}`, () => {
    beforeAll(async () => {
      store = await factory()
    }, 30_000)
    afterAll(async () => {
      if (store === undefined) return
      for (const touchedKey of touched) await store.delete(touchedKey).catch(() => {})
      await store.close()
    }, 30_000)

    it('declares its name and capabilities', () => {
      assert.equal(typeof store.name, 'string')
      assert.equal(typeof store.capabilities.shared, 'boolean')
    })

    it('returns undefined for a missing key', async () => {
      assert.equal(await store.get(key('missing')), undefined)
    })

    it('round-trips strings exactly, including unicode and empty strings', async () => {
      const values = [
        '',
        'plain',
        'ünïcødé ✓ 𝄞 🙂',
        '{"json":[1,2,3]}',
        ' leading and trailing ',
        'x'.repeat(100_000),
      ]
      for (const [i, value] of values.entries()) await store.set(key(`rt${i}`), value)
      for (const [i, value] of values.entries()) assert.equal(await store.get(key(`rt${i}`)), value)
    })

    it('overwrites on set', async () => {
      await store.set(key('ow'), 'one')
      await store.set(key('ow'), 'two')
      assert.equal(await store.get(key('ow')), 'two')
    })

    it('getMany returns values in key order with undefined for missing keys', async () => {
      await store.set(key('m1'), 'a')
      await store.set(key('m3'), 'c')
      assert.deepEqual(await store.getMany([key('m1'), key('m2'), key('m3'), key('m1')]), [
        'a',
        undefined,
        'c',
        'a',
      ])
      assert.deepEqual(await store.getMany([]), [])
    })

    it('setMany writes every entry with its own ttl', async () => {
      await store.setMany([
        { key: key('sm1'), value: '1' },
        { key: key('sm2'), value: '2', ttlMs: 60_000 },
      ])
      assert.deepEqual(await store.getMany([key('sm1'), key('sm2')]), ['1', '2'])
    })

    it('accepts every key form the cache produces (printable ASCII up to 250 bytes)', async () => {
      const forms = [
        key('a.b_c-d:e/f|g@h#i=j+k,l'),
        key('~hashed~abcDEF123_-'),
        key('k'.repeat(250 - prefix.length)),
      ]
      for (const form of forms) await store.set(form, form)
      assert.deepEqual(await store.getMany(forms), forms)
    })

    it('expires entries after their ttl and keeps entries without one', async () => {
      await store.set(key('ttl'), 'short', 1_000)
      await store.set(key('forever'), 'long')
      assert.equal(await store.get(key('ttl')), 'short')
      await sleep(1_000 + resolution + 250)
      assert.equal(await store.get(key('ttl')), undefined)
      assert.equal(await store.get(key('forever')), 'long')
    }, 10_000)

    it('add creates only when absent', async () => {
      assert.equal(await store.add(key('add'), 'first'), true)
      assert.equal(await store.add(key('add'), 'second'), false)
      assert.equal(await store.get(key('add')), 'first')
    })

    it('add lets exactly one of many concurrent callers win', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.add(key('race'), `v${i}`)))
      assert.equal(results.filter(Boolean).length, 1)
      const winner = results.indexOf(true)
      assert.equal(await store.get(key('race')), `v${winner}`)
    })

    it('add succeeds again once the previous value expired', async () => {
      assert.equal(await store.add(key('add-ttl'), 'one', 1_000), true)
      await sleep(1_000 + resolution + 250)
      assert.equal(await store.add(key('add-ttl'), 'two', 1_000), true)
      assert.equal(await store.get(key('add-ttl')), 'two')
    }, 10_000)

    it('compareAndSet replaces only the expected value', async () => {
      await store.set(key('cas'), 'v1')
      assert.equal(await store.compareAndSet(key('cas'), 'other', 'v2'), false)
      assert.equal(await store.get(key('cas')), 'v1')
      assert.equal(await store.compareAndSet(key('cas'), 'v1', 'v2'), true)
      assert.equal(await store.get(key('cas')), 'v2')
      assert.equal(await store.compareAndSet(key('cas-missing'), 'v1', 'v2'), false)
      assert.equal(await store.get(key('cas-missing')), undefined)
    })

    it('compareAndSet lets exactly one of many concurrent callers win', async () => {
      await store.set(key('cas-race'), 'base')
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.compareAndSet(key('cas-race'), 'base', `n${i}`)),
      )
      assert.equal(results.filter(Boolean).length, 1)
    })

    it('delete removes a key and ignores a missing one', async () => {
      await store.set(key('del'), 'x')
      await store.delete(key('del'))
      await store.delete(key('del-missing'))
      assert.equal(await store.get(key('del')), undefined)
    })

    it('deleteIfEquals removes only the expected value', async () => {
      await store.set(key('die'), 'owner-a')
      assert.equal(await store.deleteIfEquals(key('die'), 'owner-b'), false)
      assert.equal(await store.get(key('die')), 'owner-a')
      assert.equal(await store.deleteIfEquals(key('die'), 'owner-a'), true)
      assert.equal(await store.get(key('die')), undefined)
      assert.equal(await store.deleteIfEquals(key('die'), 'owner-a'), false)
    })

    // Optional for a store; one that offers it must answer exactly as getMany of the entry and the
    // keys, the entry first (the cache then serves hits from it).
    it('readHit is offered as declared and reads the entry, then each key in order', async () => {
      const offered = store.readHit !== undefined && store.capabilities.readVersionsOnly !== true
      assert.equal(offered, options.plainHitRead === true)
      if (store.readHit === undefined || !offered) return
      await store.setMany([
        { key: key('rh-entry'), value: 'entry' },
        { key: key('rh-a'), value: 'a' },
        { key: key('rh-b'), value: '' },
      ])
      assert.deepEqual(
        await store.readHit(key('rh-entry'), [key('rh-a'), key('rh-none'), key('rh-b'), key('rh-a')]),
        ['entry', 'a', undefined, '', 'a'],
      )
      assert.deepEqual(await store.readHit(key('rh-none'), []), [undefined])
    })

    it('keeps 500 concurrent writes and reads consistent', async () => {
      await Promise.all(Array.from({ length: 500 }, (_, i) => store.set(key(`bulk${i}`), `value-${i}`)))
      const keys = Array.from({ length: 500 }, (_, i) => key(`bulk${i}`))
      const values = await store.getMany(keys)
      assert.deepEqual(
        values,
        keys.map((_, i) => `value-${i}`),
      )
    })
  })
}
