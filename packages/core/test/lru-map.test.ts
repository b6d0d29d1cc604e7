import { describe, expect, it } from 'vitest'
import { LruMap, type LruSlot, OldestKeys } from '../src/lru-map.js'

interface Named extends LruSlot {
  name: string
}
const slot = (name: string): Named => ({ name, touched: 0 })

/** Evicts until empty: the order the map would evict in. */
function drain(map: LruMap<Named>): string[] {
  const order: string[] = []
  for (let oldest = map.takeOldest(); oldest !== undefined; oldest = map.takeOldest()) {
    expect(oldest.slot.name.startsWith(oldest.key)).toBe(true)
    order.push(oldest.key)
  }
  expect(map.size).toBe(0)
  return order
}

describe('LruMap', () => {
  it('yields the oldest slot first, past deleted and moved ones, and what was inserted since', () => {
    const map = new LruMap<Named>(4) // a slot drifts past 1 newer insertion or move
    for (const key of ['a', 'b', 'c', 'd']) map.set(key, slot(key))
    expect(map.takeOldest()?.key).toBe('a')
    map.delete('b')
    map.set('e', slot('e'))
    map.get('c') // 2 newer (d, e): moves to the newest end
    expect(drain(map)).toEqual(['d', 'e', 'c'])
    map.set('f', slot('f'))
    expect(map.takeOldest()?.key).toBe('f')
  })

  it('moves a used slot only once it drifted a quarter of the way to eviction', () => {
    const map = new LruMap<Named>(8) // drifted past 2 newer insertions or moves
    for (const key of ['a', 'b', 'c']) map.set(key, slot(key))
    map.get('b') // 1 newer (c): stays
    map.get('a') // 2 newer: stays
    map.set('d', slot('d'))
    map.get('a') // 3 newer: moves
    expect(drain(map)).toEqual(['b', 'c', 'd', 'a'])
  })

  it('rewrites an undrifted slot in place and moves a drifted one', () => {
    const map = new LruMap<Named>(8)
    for (const key of ['a', 'b', 'c']) map.set(key, slot(key))
    map.set('b', slot('b2')) // 1 newer: in place, its position kept
    expect(map.peek('b')?.name).toBe('b2')
    map.set('d', slot('d'))
    map.set('a', slot('a2')) // 3 newer: moves
    expect(map.peek('a')?.name).toBe('a2')
    expect(drain(map)).toEqual(['b', 'c', 'd', 'a'])
  })

  it('peek does not move; clear empties and the cursor starts over', () => {
    const map = new LruMap<Named>(1)
    map.set('a', slot('a'))
    map.set('b', slot('b'))
    map.peek('a')
    expect(map.takeOldest()?.key).toBe('a')
    map.clear()
    expect(map.size).toBe(0)
    expect(map.takeOldest()).toBeUndefined()
    map.set('c', slot('c'))
    expect(map.takeOldest()?.key).toBe('c')
  })
})

describe('OldestKeys', () => {
  it('gives the oldest key in insertion order past removed and re-set keys, and restarts', () => {
    const map = new Map<string, number>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ])
    const oldest = new OldestKeys(map)
    expect(oldest.next()).toBe('a')
    map.delete('a')
    map.delete('b')
    map.set('b', 4) // re-set after a delete: now the newest
    map.set('c', 5) // set in place: keeps its position
    expect(oldest.next()).toBe('c')
    map.delete('c')
    expect(oldest.next()).toBe('b')
    map.delete('b')
    expect(oldest.next()).toBeUndefined()
    map.set('d', 6)
    expect(oldest.next()).toBe('d')
    map.clear()
    oldest.restart()
    map.set('e', 7)
    expect(oldest.next()).toBe('e')
  })
})
