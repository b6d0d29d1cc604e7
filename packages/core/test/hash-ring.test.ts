import { describe, expect, it } from 'vitest'
import { HashRing } from '../src/memcached/hash-ring.js'

const nodes = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']
const keys = Array.from({ length: 10_000 }, (_, i) => `ormcache:e:user:${i}`)

describe('HashRing', () => {
  it('spreads keys over every node roughly evenly', () => {
    const ring = new HashRing(nodes)
    const counts = new Map<string, number>()
    for (const key of keys) counts.set(ring.node(key), (counts.get(ring.node(key)) ?? 0) + 1)
    expect([...counts.keys()].sort()).toEqual(nodes)
    // 160 points per node keep every share within a few percent of a third.
    for (const count of counts.values()) expect(count / keys.length).toBeGreaterThan(0.25)
    for (const count of counts.values()) expect(count / keys.length).toBeLessThan(0.42)
  })

  it('maps a key to the same node in every process (deterministic, order-independent)', () => {
    const a = new HashRing(nodes)
    const b = new HashRing([...nodes].reverse())
    for (const key of keys.slice(0, 1_000)) expect(b.node(key)).toBe(a.node(key))
  })

  it("dropping one of three nodes moves only that node's keys (about a third)", () => {
    const ring = new HashRing(nodes)
    const dropped = nodes[1]!
    const smaller = ring.without(dropped)
    let moved = 0
    for (const key of keys) {
      const before = ring.node(key)
      const after = smaller.node(key)
      if (before === dropped) {
        expect(after).not.toBe(dropped)
        moved++
      } else {
        // A key on a surviving node never moves.
        expect(after).toBe(before)
      }
    }
    expect(moved / keys.length).toBeGreaterThan(0.25)
    expect(moved / keys.length).toBeLessThan(0.42)
  })

  it('adding a node takes keys only onto the new node', () => {
    const ring = new HashRing(nodes.slice(0, 2))
    const bigger = new HashRing(nodes)
    for (const key of keys) {
      const after = bigger.node(key)
      if (after !== nodes[2]) expect(after).toBe(ring.node(key))
    }
  })

  it('rejects an empty or duplicated node list and bad point counts with typed errors', () => {
    expect(() => new HashRing([])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    expect(() => new HashRing(['a:1', 'a:1'])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => new HashRing(nodes, { pointsPerNode: 6 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })

  it('a single node owns every key', () => {
    const ring = new HashRing(['only:11211'])
    expect(new Set(keys.slice(0, 100).map((k) => ring.node(k)))).toEqual(new Set(['only:11211']))
  })
})
