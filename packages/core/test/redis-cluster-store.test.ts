import crypto from 'node:crypto'
import type { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisStore } from '../src/exports/redis.js'
import { runStoreContract } from '../src/exports/testing.js'
import { keySlot } from '../src/redis/redis-slot.js'
import { clusterNodes, connectCluster } from './support/services.js'
import { sharedCacheSuite } from './support/shared-cache.js'

const clusterUrl = `redis+cluster://${clusterNodes.join(',')}`

runStoreContract(
  'redis cluster (3 masters, from a redis+cluster:// url)',
  async () => {
    ;(await connectCluster()).disconnect()
    return redisStore({ url: clusterUrl })
  },
  { describe, it, beforeAll, afterAll },
)

sharedCacheSuite('Redis Cluster', async () => {
  ;(await connectCluster()).disconnect()
  return redisStore({ url: clusterUrl })
})

describe('redisStore on a Redis Cluster', () => {
  let cluster: Cluster
  const prefix = `cl:${crypto.randomBytes(4).toString('hex')}:`

  beforeAll(async () => {
    cluster = await connectCluster()
  })
  afterAll(() => cluster?.disconnect())

  /** The master port that serves `slot`, from CLUSTER SLOTS. */
  async function ownerOf(slot: number): Promise<number> {
    const ranges = await cluster.cluster('SLOTS')
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)
    if (range?.[2] === undefined) throw new Error(`slot ${slot} is not served`)
    return range[2][1]
  }

  it('computes the same hash slot as the server, hash tags and UTF-8 included', async () => {
    const keys = [
      'a',
      '',
      '{user1}:x',
      'x{user1}y',
      '{}',
      '{}x',
      '{a',
      'a}b{c}',
      '{{a}}',
      'prefix{}{tag}',
      'ünïcødé 🙂',
      '{ü}:1',
      ...Array.from({ length: 200 }, () => crypto.randomBytes(12).toString('base64')),
    ]
    for (const key of keys) expect(keySlot(key), key).toBe(await cluster.cluster('KEYSLOT', key))
  })

  it('getMany and setMany work on keys spread over every slot and node, in input order', async () => {
    const store = redisStore({ url: clusterUrl })
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `${prefix}spread:${i}`)
      const slots = new Set(keys.map(keySlot))
      const owners = new Set(await Promise.all([...slots].map(ownerOf)))
      expect(slots.size).toBeGreaterThan(50)
      expect(owners.size).toBe(3)

      const written = keys.filter((_, i) => i % 3 !== 0)
      await store.setMany(written.map((key) => ({ key, value: `value of ${key}`, ttlMs: 60_000 })))
      const asked = [...keys, keys[1]!, `${prefix}missing`, keys[1]!]
      const values = await store.getMany(asked)
      expect(values).toEqual(asked.map((key) => (written.includes(key) ? `value of ${key}` : undefined)))
      // and each key really is on the node that owns its slot
      for (const key of written.slice(0, 10)) expect(await cluster.get(key)).toBe(`value of ${key}`)
    } finally {
      await store.close()
    }
  })

  it('batches keys that share a hash tag (one slot) and mixes them with other slots', async () => {
    const store = redisStore({ url: clusterUrl })
    try {
      const tagged = Array.from({ length: 5 }, (_, i) => `${prefix}{same}:${i}`)
      expect(new Set(tagged.map(keySlot)).size).toBe(1)
      const other = `${prefix}elsewhere`
      expect(keySlot(other)).not.toBe(keySlot(tagged[0]!))
      await store.setMany([...tagged, other].map((key) => ({ key, value: key })))
      expect(await store.getMany([tagged[0]!, other, ...tagged.slice(1)])).toEqual([
        tagged[0],
        other,
        ...tagged.slice(1),
      ])
    } finally {
      await store.close()
    }
  })

  it('runs add, compareAndSet and deleteIfEquals on the node that owns each key', async () => {
    const store = redisStore({ client: cluster })
    const keys = Array.from({ length: 12 }, (_, i) => `${prefix}cond:${i}`)
    expect(new Set(await Promise.all(keys.map((k) => ownerOf(keySlot(k))))).size).toBeGreaterThan(1)
    for (const key of keys) {
      expect(await store.add(key, 'one', 60_000)).toBe(true)
      expect(await store.add(key, 'two', 60_000)).toBe(false)
      expect(await store.compareAndSet(key, 'one', 'three', 60_000)).toBe(true)
      expect(await store.compareAndSet(key, 'one', 'four', 60_000)).toBe(false)
      expect(await store.deleteIfEquals(key, 'one')).toBe(false)
      expect(await store.deleteIfEquals(key, 'three')).toBe(true)
      expect(await cluster.exists(key)).toBe(0)
    }
    // the store did not own the given Cluster client, so closing it leaves it usable
    await store.close()
    expect(await cluster.ping()).toBe('PONG')
  })

  it('closes the Cluster client it created', async () => {
    const store = redisStore({ url: clusterUrl })
    await store.set(`${prefix}close`, 'x')
    await store.close()
    expect(store.client.status).toBe('end')
  })
})
