import { Decimal } from 'decimal.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildKey } from '../src/exports/adapter.js'
import { createCache, InvalidKeyError, InvalidOptionError, memoryStore } from '../src/exports/index.js'
import { KeySpace, Memo } from '../src/query-key.js'
import { TagVersions } from '../src/tags/versions.js'

/** Shuffles object keys recursively: the canonical key must not notice. */
function shuffled(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffled(item, random))
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value).sort(() => random() - 0.5)
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffled(v, random)]))
  }
  return value
}

const jsonish = fc.jsonValue()

describe('buildKey', () => {
  it('is stable under object key order (property)', () => {
    fc.assert(
      fc.property(jsonish, fc.integer(), (value, seed) => {
        let state = seed
        const random = () => {
          state = (state * 1103515245 + 12345) & 0x7fffffff
          return state / 0x7fffffff
        }
        expect(buildKey([value])).toBe(buildKey([shuffled(value, random)]))
      }),
      { numRuns: 1_000 },
    )
  })

  it('differs whenever the values differ (property)', () => {
    fc.assert(
      fc.property(jsonish, jsonish, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b) || typeof a !== typeof b)
        // JSON.stringify is order-sensitive; compare canonical forms of sorted copies instead.
        const same = buildKey([a]) === buildKey([b])
        if (same) expect(JSON.stringify(sortDeep(a))).toBe(JSON.stringify(sortDeep(b)))
      }),
      { numRuns: 1_000 },
    )
  })

  it('keeps types distinct', () => {
    const values = [
      1,
      '1',
      1n,
      true,
      'true',
      null,
      undefined,
      'null',
      -0,
      0,
      Number.NaN,
      new Date(1),
      [1],
      { 0: 1 },
      new Decimal(1),
      new Uint8Array([1]),
      new Set([1]),
      new Map([[1, 1]]),
      '',
      [],
      {},
    ]
    const keys = values.map((v) => buildKey([v]))
    expect(new Set(keys).size).toBe(values.length)
  })

  it('is not fooled by delimiter characters inside strings', () => {
    expect(buildKey(['a,b'])).not.toBe(buildKey(['a', 'b']))
    expect(buildKey([{ a: '1,2:b=3' }])).not.toBe(buildKey([{ a: '1', b: '3' }]))
    expect(buildKey(['s1:x'])).not.toBe(buildKey(['x']))
  })

  it('ignores Set and Map insertion order', () => {
    expect(buildKey([new Set([1, 2, 3])])).toBe(buildKey([new Set([3, 1, 2])]))
    expect(
      buildKey([
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ]),
    ).toBe(
      buildKey([
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ]),
    )
  })

  it('names class instances by class and lets encoders name sentinels', () => {
    class DbNull {}
    class JsonNull {}
    expect(buildKey([new DbNull()])).not.toBe(buildKey([new JsonNull()]))
    const sentinel = Object.freeze({})
    const encoders = [(value: object) => (value === sentinel ? 'Sentinel' : undefined)]
    expect(buildKey([sentinel], { encoders })).not.toBe(buildKey([{}], { encoders }))
  })

  it('keeps its exact form: processes of other versions share the keys it builds', () => {
    class Sentinel {}
    const value = [
      'Model',
      'findMany',
      {
        where: {
          id: 1,
          name: 'ä ", x',
          big: 12n,
          neg: -0,
          no: null,
          un: undefined,
          t: true,
          f: false,
          at: new Date(0),
          bytes: new Uint8Array([1, 2, 3]),
          set: new Set([2, 'a']),
          map: new Map([['k', [1]]]),
          s: new Sentinel(),
          nested: [[{}], []],
        },
      },
      [],
      {},
    ]
    // Written by the previous implementation (stop 30); a change here re-keys every cached query.
    expect(buildKey(value)).toBe(
      '[s5:Model,s8:findMany,{|5:where={|2:at=d0;,3:big=i12;,5:bytes=b4:AQID,1:f=F,2:id=n1;,' +
        '3:map=M[[s1:k,[n1;,],]],4:name=s6:ä ", x,3:neg=n-0;,6:nested=[[{|},],[],],2:no=N,' +
        '1:s={Sentinel|},3:set=S[n2;,s1:a],1:t=T,2:un=U,},},[],{|},]',
    )
  })

  it('names where the value it cannot key is', () => {
    const loop: { x: unknown[] } = { x: [1] }
    loop.x.push(loop)
    expect(() => buildKey([{ a: [1, () => 1] }])).toThrow('from a function at $[0].a[1]')
    expect(() => buildKey([new Map([['k', Symbol('x')]])])).toThrow('from a symbol at $[0]<>[1]')
    expect(() => buildKey([loop])).toThrow('from a circular value at $[0].x[1]')
    // A value met twice but not inside itself is no cycle.
    const shared = { id: 1 }
    expect(buildKey([shared, [shared]])).toBe('[{|2:id=n1;,},[{|2:id=n1;,},],]')
  })

  it('rejects functions, symbols and cycles with InvalidKeyError', () => {
    const loop: Record<string, unknown> = {}
    loop.loop = loop
    for (const bad of [() => 1, Symbol('x'), loop]) {
      expect(() => buildKey([bad])).toThrow(InvalidKeyError)
    }
  })
})

describe('store key forms', () => {
  const space = new KeySpace('ns')
  const memcachedSafe = (key: string) => Buffer.byteLength(key) <= 250 && /^[\x21-\x7e]+$/.test(key)

  it('are Memcached-safe for any key and tag (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 2_000 }), (text) => {
        expect(memcachedSafe(space.entry(text).storeKey)).toBe(true)
        expect(memcachedSafe(space.tag(text))).toBe(true)
      }),
      { numRuns: 2_000 },
    )
  })

  it('keep short safe keys readable and hash the rest with a separate identity hash', () => {
    expect(space.entry('user:1')).toEqual({ key: 'user:1', storeKey: 'ns:e:user:1', identity: 'user:1' })
    const long = space.entry(`prisma:User.findMany:${'x'.repeat(500)}`)
    expect(long.storeKey.startsWith('ns:e:prisma:User.findMany:')).toBe(true)
    expect(long.identity).not.toContain(long.storeKey.split('~')[1])
    const spaced = space.entry('has space')
    expect(spaced.storeKey).toMatch(/^ns:e:has~[A-Za-z0-9_-]{43}$/)
  })

  it('never lets a readable key collide with a hashed one', () => {
    const hashed = space.entry('with space').storeKey
    const forged = hashed.slice('ns:e:'.length)
    // "~" is not a readable-key character, so the forged key is itself hashed.
    expect(space.entry(forged).storeKey).not.toBe(hashed)
  })

  it('validates the namespace', () => {
    expect(() => createCache({ namespace: 'bad space' })).toThrow(InvalidOptionError)
    expect(() => createCache({ namespace: '' })).toThrow(InvalidOptionError)
    expect(() => createCache({ namespace: 'x'.repeat(65) })).toThrow(InvalidOptionError)
  })

  it('rejects empty and non-string keys from the public API', async () => {
    const cache = createCache({ store: memoryStore() })
    await expect(cache.get('')).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(cache.wrap(42 as unknown as string, () => 1)).rejects.toMatchObject({
      code: 'ERR_INVALID_KEY',
    })
  })
})

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

describe('Memo (store key memoization)', () => {
  it('keeps a hot key across a generation switch and forgets keys untouched for two generations', () => {
    const memo = new Memo<number>(4)
    for (let i = 0; i < 4; i++) memo.set(`k${i}`, i)
    // Full: the next new key starts a generation; k0..k3 move to the previous one.
    memo.set('k4', 4)
    expect(memo.get('k0')).toBe(0) // found in the previous generation, moved forward
    for (let i = 5; i < 7; i++) memo.set(`k${i}`, i)
    // current: k4, k0, k5, k6 (full). The next key retires the previous generation (k1..k3).
    memo.set('k7', 7)
    expect(memo.get('k1')).toBeUndefined()
    expect(memo.get('k0')).toBe(0)
    expect(memo.get('k7')).toBe(7)
  })

  it('does not keep keys longer than its limit, and delete removes from both generations', () => {
    const memo = new Memo<string>(2, 8)
    memo.set('x'.repeat(9), 'long')
    expect(memo.get('x'.repeat(9))).toBeUndefined()
    memo.set('a', 'A')
    memo.set('b', 'B')
    memo.set('c', 'C') // a, b now previous
    memo.delete('a')
    memo.delete('c')
    expect(memo.get('a')).toBeUndefined()
    expect(memo.get('c')).toBeUndefined()
    expect(memo.get('b')).toBe('B')
  })

  it('gives every tag of a working set larger than the old 4,096-entry memo its own store key', () => {
    const space = new KeySpace('ns')
    const tags = Array.from({ length: 7_000 }, (_, i) => `row:bench_post:${i}`)
    const first = tags.map((tag) => space.tag(tag))
    const second = tags.map((tag) => space.tag(tag))
    expect(second).toEqual(first)
    expect(new Set(first).size).toBe(tags.length)
    expect(first[42]).toBe('ns:t:row:bench_post:42')
  })
})

describe('TagVersions.storeKeys', () => {
  const versions = () => new TagVersions(new KeySpace('ns'), 60_000)

  it('answers the same tags array with the same keys, built once', () => {
    const tags = Array.from({ length: 80 }, (_, i) => `row:post:${i}`)
    const store = versions()
    const first = store.storeKeys(tags)
    expect(first[0]).toBe('ns:g')
    expect(first.slice(1)).toEqual(tags.map((tag) => `ns:t:${tag}`))
    expect(store.storeKeys(tags)).toBe(first)
  })

  it('never answers an array changed after the call with its old keys', () => {
    const tags = ['row:post:1', 'row:post:2']
    const store = versions()
    store.storeKeys(tags)
    tags[1] = 'row:post:3'
    expect(store.storeKeys(tags)).toEqual(['ns:g', 'ns:t:row:post:1', 'ns:t:row:post:3'])
    tags.push('row:post:4')
    expect(store.storeKeys(tags)).toHaveLength(4)
  })
})
