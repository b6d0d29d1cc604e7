import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Codec, createCache } from '../src/exports/index.js'
import { decodePayload, encodePayload } from '../src/write-behind/payload.js'

const codec = new Codec()
const wire = (value: unknown, tables = true) => {
  const { data, meta } = codec.encode(value, { tables })
  return JSON.parse(JSON.stringify({ data, meta })) as { data: unknown; meta: unknown }
}
const roundTrip = <T>(value: T, tables = true): T => {
  const { data, meta } = wire(value, tables)
  return codec.decode(data, meta) as T
}

/** Rows as an ORM returns them: every row has the same keys, in the same order. */
const rows = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    User_id: i + 1,
    User_name: `User ${i + 1}`,
    User_created_at: new Date(1_704_070_800_000 + i),
    User__User_posts_id: i * 10,
    User__User_posts_published: i % 2 === 0,
  }))

const cell = fc.oneof(
  fc.string(),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date(),
  fc.uint8Array().map((bytes) => Buffer.from(bytes)),
)
/** A list of same-shaped rows whose cells may themselves be such lists (Prisma's includes). */
const table = fc
  .uniqueArray(
    fc.string().filter((key) => key !== '__proto__' && key !== 'constructor'),
    { minLength: 1, maxLength: 6 },
  )
  .chain((keys) =>
    fc
      .array(
        fc.tuple(
          ...keys.map(() =>
            fc.oneof(
              cell,
              fc.array(fc.record({ id: fc.integer(), at: fc.date() }, { noNullPrototype: true })),
            ),
          ),
        ),
        { maxLength: 6 },
      )
      .map((tuples) => tuples.map((values) => Object.fromEntries(keys.map((key, i) => [key, values[i]])))),
  )

describe('codec tables (lists of same-shaped rows)', () => {
  it('round-trips any list of same-shaped rows exactly, nested lists included (property)', () => {
    fc.assert(
      fc.property(table, (original) => {
        expect(roundTrip(original)).toStrictEqual(original)
        expect(Object.keys(roundTrip(original)[0] ?? {})).toEqual(Object.keys(original[0] ?? {}))
      }),
      { numRuns: 1_000 },
    )
  })

  it('writes the keys once and annotations shared by every row once', () => {
    const { data, meta } = wire(rows(50))
    expect((data as unknown[])[0]).toEqual(Object.keys(rows(1)[0]!))
    expect((data as unknown[]).length).toBe(51)
    expect(meta).toEqual(['T', { '*': { 2: 'D' } }])
    const tableBytes = JSON.stringify(wire(rows(50))).length
    const rowBytes = JSON.stringify(wire(rows(50), false)).length
    expect(tableBytes).toBeLessThan(rowBytes * 0.6)
  })

  it('annotates single rows when the rows differ (a nullable date column)', () => {
    const list = rows(4).map((row, i) => ({ ...row, User_created_at: i === 2 ? null : row.User_created_at }))
    const { meta } = wire(list)
    expect(meta).toEqual(['T', { 1: { 2: 'D' }, 2: { 2: 'D' }, 4: { 2: 'D' } }])
    expect(roundTrip(list)).toStrictEqual(list)
  })

  it('annotates single rows when as many annotations sit in other columns', () => {
    const at = new Date(0)
    const list = [
      { a: at, b: 'x', c: 1n },
      { a: 'x', b: at, c: 1n },
      { a: at, b: 'x', c: 2n },
    ]
    expect(wire(list).meta).toEqual([
      'T',
      { 1: { 0: 'D', 2: 'B' }, 2: { 1: 'D', 2: 'B' }, 3: { 0: 'D', 2: 'B' } },
    ])
    expect(roundTrip(list)).toStrictEqual(list)
    // Same columns, another kind of annotation.
    const mixed = [
      { a: at, b: 1n },
      { a: 5n, b: 1n },
    ]
    expect(wire(mixed).meta).toEqual(['T', { 1: { 0: 'D', 1: 'B' }, 2: { 0: 'B', 1: 'B' } }])
    expect(roundTrip(mixed)).toStrictEqual(mixed)
    // A row with fewer annotations, each like the first row's.
    const fewer = [
      { a: at, b: 1n },
      { a: at, b: 'x' },
    ]
    expect(wire(fewer).meta).toEqual(['T', { 1: { 0: 'D', 1: 'B' }, 2: { 0: 'D' } }])
    expect(roundTrip(fewer)).toStrictEqual(fewer)
  })

  it('keeps integer-like keys, undefined cells and key order', () => {
    const list = [
      { 2: 'b', 1: 'a', z: undefined },
      { 2: 'd', 1: 'c', z: 1 },
    ]
    const decoded = roundTrip(list)
    expect(decoded).toStrictEqual(list)
    expect(Object.hasOwn(decoded[0]!, 'z')).toBe(true)
    expect(Object.keys(decoded[1]!)).toEqual(['1', '2', 'z'])
  })

  it('keeps the row layout for one row, differing keys, non-rows and "__proto__" keys', () => {
    const withProto = JSON.parse('[{"__proto__": 1, "a": 2}, {"__proto__": 3, "a": 4}]')
    for (const list of [
      rows(1),
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [{ a: 1 }, { a: 1, b: 2 }],
      [{ a: 1 }, [1]],
      [{ a: 1 }, new Map()],
      [{}, {}],
      withProto,
    ]) {
      const { meta } = wire(list)
      expect(Array.isArray(meta) && meta[0] === 'T').toBe(false)
      expect(roundTrip(list)).toStrictEqual(list)
    }
    expect(Object.hasOwn(roundTrip(withProto)[0], '__proto__')).toBe(true)
  })

  it('still reads values written in the row layout (entries from before tables)', () => {
    const { data, meta } = wire(rows(3), false)
    expect(Array.isArray((data as unknown[])[0])).toBe(false)
    expect(codec.decode(data, meta)).toStrictEqual(rows(3))
  })

  it('keeps queued write-behind values in the row layout every version reads', () => {
    const payload = encodePayload(codec, rows(3))
    expect(payload).toContain('"User_name":"User 1"')
    expect(decodePayload(codec, payload, 'q1')).toStrictEqual(rows(3))
  })

  it('rejects a malformed table instead of returning wrong data', () => {
    const bad: [unknown, unknown][] = [
      [
        [[], [1]],
        ['T', ''],
      ], // no keys
      [
        [
          ['a', 1],
          [1, 2],
        ],
        ['T', ''],
      ], // a key that is not a string
      [
        [['__proto__'], [1]],
        ['T', ''],
      ],
      [
        [['a', 'b'], [1]],
        ['T', ''],
      ], // a row shorter than the keys
      [
        [['a'], 1],
        ['T', ''],
      ], // a row that is not a list
      [
        [['a'], [1]],
        ['T', { '*': { 0: 'D' }, 1: { 0: 'D' } }],
      ], // every row and single rows
      [{ a: 1 }, ['T', '']], // not a list at all
    ]
    for (const [data, meta] of bad) expect(() => codec.decode(data, meta)).toThrow()
  })

  it('serves a cached list of rows as it was stored, through the cache', async () => {
    const cache = createCache({ namespace: 'tables' })
    await cache.set('team', rows(20))
    const raw = (await cache.store.get('tables:e:team'))!
    expect(raw).not.toContain('"User_name":')
    expect(await cache.get('team')).toStrictEqual(rows(20))
    await cache.close()
  })
})
