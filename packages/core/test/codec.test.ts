import { Decimal } from 'decimal.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Codec, createCache, NotSerializableError } from '../src/exports/index.js'

const codec = new Codec()
const roundTrip = <T>(value: T): T => {
  const { data, meta } = codec.encode(value)
  const wire = JSON.parse(JSON.stringify({ data, meta }))
  return codec.decode(wire.data, wire.meta) as T
}

/** Every value type the codec promises to round-trip, nested arbitrarily. */
const leaf = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.double(), // includes NaN, ±Infinity and -0
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date(), // includes invalid dates
  fc.uint8Array().map((bytes) => Buffer.from(bytes)),
  fc.uint8Array(),
  fc.tuple(fc.bigInt(), fc.integer({ min: 0, max: 20 })).map(([n, scale]) => new Decimal(`${n}e-${scale}`)),
  // Strings and shapes that an in-band marker scheme would misread.
  fc.constantFrom('u', 'D', 'B', 'N', 'X', 'b', 'U', 'M', 'S', '$date', '__proto__', '-0', 'NaN'),
)
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
  array: fc.array(tie('any'), { maxLength: 5 }),
  // "__proto__" and "constructor" keys have their own test: vitest's strict equality reads
  // `constructor` to compare types and mishandles "__proto__" inside Map keys.
  object: fc.dictionary(
    fc.oneof(
      fc.string().filter((key) => key !== '__proto__' && key !== 'constructor'),
      fc.constantFrom('d', 'm', 'f', 'toJSON'),
    ),
    tie('any'),
    { maxKeys: 5, noNullPrototype: true },
  ),
  map: fc.array(fc.tuple(tie('any'), tie('any')), { maxLength: 3 }).map((pairs) => new Map(pairs)),
  set: fc.array(tie('any'), { maxLength: 3 }).map((items) => new Set(items)),
})).any

describe('codec', () => {
  it('round-trips every supported value exactly (property)', () => {
    fc.assert(
      fc.property(value, (original) => {
        expect(roundTrip(original)).toStrictEqual(original)
      }),
      { numRuns: 2_000 },
    )
  })

  it('keeps types distinct: Buffer vs Uint8Array, BigInt vs string, -0, NaN, invalid Date', () => {
    const decoded = roundTrip({
      buf: Buffer.from('hi'),
      bytes: new Uint8Array([1, 2]),
      big: 12345678901234567890n,
      bigText: '12345678901234567890',
      negZero: -0,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      bad: new Date(Number.NaN),
      when: new Date('2024-02-29T12:34:56.789Z'),
    })
    expect(Buffer.isBuffer(decoded.buf)).toBe(true)
    expect(Buffer.isBuffer(decoded.bytes)).toBe(false)
    expect(decoded.bytes).toBeInstanceOf(Uint8Array)
    expect(decoded.big).toBe(12345678901234567890n)
    expect(decoded.bigText).toBe('12345678901234567890')
    expect(Object.is(decoded.negZero, -0)).toBe(true)
    expect(decoded.nan).toBeNaN()
    expect(decoded.inf).toBe(Number.NEGATIVE_INFINITY)
    expect(Number.isNaN(decoded.bad.getTime())).toBe(true)
    expect(decoded.when.toISOString()).toBe('2024-02-29T12:34:56.789Z')
  })

  it('distinguishes a missing property, an undefined property and null', () => {
    const decoded = roundTrip({ a: undefined, b: null, list: [undefined, null] })
    expect(Object.hasOwn(decoded, 'a')).toBe(true)
    expect(decoded.a).toBeUndefined()
    expect(decoded.b).toBeNull()
    expect(decoded.list).toStrictEqual([undefined, null])
    expect(roundTrip(undefined)).toBeUndefined()
    expect(roundTrip(null)).toBeNull()
  })

  it('turns array holes into undefined', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(roundTrip([1, , 3])).toEqual([1, undefined, 3])
  })

  it('decodes decimals as decimal.js out of the box and into a registered constructor', () => {
    expect(roundTrip(new Decimal('1.10'))).toBeInstanceOf(Decimal)
    expect(String(roundTrip(new Decimal('-0.000000000000000000012345')))).toBe('-1.2345e-20')
    class Money {
      constructor(readonly text: string) {}
    }
    const custom = new Codec()
    custom.useDecimal(Money)
    const { data, meta } = custom.encode({ price: new Decimal('9.99') })
    const decoded = custom.decode(data, meta) as { price: Money }
    expect(decoded.price).toBeInstanceOf(Money)
    expect(decoded.price.text).toBe('9.99')
  })

  it('recognises decimal copies by their toStringTag, as Prisma bundles its own', () => {
    const Copy = Decimal.clone()
    expect(roundTrip(new Copy('3.14')).toString()).toBe('3.14')
  })

  it('keeps "__proto__" as a data key without touching prototypes', () => {
    const original = JSON.parse('{"__proto__": {"polluted": true}, "when": 1}')
    original.when = new Date(0)
    const decoded = roundTrip(original)
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('keeps keys named like Object.prototype members as plain data', () => {
    const decoded = roundTrip({ constructor: [new Date(1)], toString: 'x', hasOwnProperty: 1n })
    expect(decoded.constructor).toEqual([new Date(1)])
    expect(decoded.toString).toBe('x')
    expect(decoded.hasOwnProperty).toBe(1n)
  })

  it('has no meta for plain JSON values, so they decode with a bare parse', () => {
    expect(codec.encode({ a: [1, 'x', null, { b: true }] }).meta).toBeUndefined()
  })

  it.each([
    ['a function', { f: () => 1 }, '$.f'],
    ['a symbol', { nested: [Symbol('s')] }, '$.nested[0]'],
    ['a class instance', { when: new (class Point {})() }, '$.when'],
    ['a RegExp', /x/, '$'],
    ['a typed array other than Uint8Array', new Float32Array(2), '$'],
  ])('rejects %s with NotSerializableError naming the path', (_, input, path) => {
    expect(() => codec.encode(input)).toThrow(NotSerializableError)
    try {
      codec.encode(input)
    } catch (error) {
      expect((error as NotSerializableError).code).toBe('ERR_NOT_SERIALIZABLE')
      expect((error as NotSerializableError).path).toBe(path)
    }
  })

  it('rejects circular references but accepts shared (non-circular) references', () => {
    const loop: Record<string, unknown> = {}
    loop.self = loop
    expect(() => codec.encode(loop)).toThrow(/circular/)
    const shared = { x: 1 }
    expect(roundTrip({ a: shared, b: shared })).toStrictEqual({ a: { x: 1 }, b: { x: 1 } })
  })

  it('rejects malformed meta instead of returning wrong data', () => {
    expect(() => codec.decode('x', 'Q')).toThrow()
    expect(() => codec.decode({ a: 1 }, { b: 'D' })).toThrow()
    expect(() => codec.decode(5, 'B')).toThrow()
    expect(() => codec.decode('x', ['M', ''])).toThrow()
  })
})

describe('codec through the cache', () => {
  it('returns a fresh copy on every read, never a shared mutable object', async () => {
    const cache = createCache()
    await cache.set('k', { list: [1, 2] })
    const first = await cache.get<{ list: number[] }>('k')
    first!.list.push(3)
    expect(await cache.get('k')).toStrictEqual({ list: [1, 2] })
  })

  it('treats a corrupt or foreign payload as a miss and reports it', async () => {
    const cache = createCache({ namespace: 'corrupt' })
    const errors: string[] = []
    cache.on('error', ({ error }) => errors.push(error.code))
    await cache.set('k', 'value')
    for (const foreign of [
      'not json',
      '{"f":1}',
      '{"f":99,"i":"k","x":0,"g":"","t":[],"v":[],"d":1}',
      '[1,2]',
    ]) {
      await cache.store.set('corrupt:e:k', foreign)
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.wrap('k', () => 'reloaded')).toBe('reloaded')
    }
    expect(errors.filter((code) => code === 'ERR_CORRUPT_ENTRY').length).toBeGreaterThanOrEqual(8)
  })

  it('rejects a payload whose meta does not match its data', async () => {
    const cache = createCache({ namespace: 'corrupt2' })
    await cache.set('k', new Date(0))
    const raw = (await cache.store.get('corrupt2:e:k'))!
    await cache.store.set('corrupt2:e:k', raw.replace(/\n"D"$/, '\n"B"')) // the meta line
    const errors: unknown[] = []
    cache.on('error', (event) => errors.push(event))
    expect(await cache.get('k')).toBeUndefined()
    expect(errors).toHaveLength(1)
  })
})

describe('Codec.clone', () => {
  it('deep-copies every supported value, keeping classes (property)', () => {
    fc.assert(
      fc.property(value, (original) => {
        const copied = codec.clone(original)
        expect(copied).toStrictEqual(original)
        if (typeof original === 'object' && original !== null) expect(copied).not.toBe(original)
      }),
      { numRuns: 1_000 },
    )
  })

  it('shares nothing mutable with the original', () => {
    const original = { list: [{ at: new Date(0) }], bytes: Buffer.from('ab') }
    const copied = codec.clone(original)
    copied.list[0]!.at.setTime(5)
    copied.bytes[0] = 0
    expect(original.list[0]!.at.getTime()).toBe(0)
    expect(original.bytes.toString()).toBe('ab')
  })
})
