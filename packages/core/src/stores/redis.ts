import crypto from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { InvalidOptionError } from '../errors.js'
import type { InvalidationBus } from '../tiers/bus.js'
import { RedisBus } from './redis-bus.js'
import { connect, type RedisUrlOptions } from './redis-connect.js'
import { keySlot } from './redis-slot.js'
import type { CacheStore, StoreCapabilities, StoreWrite } from './types.js'

export interface RedisClientOptions {
  /** An ioredis `Redis` or `Cluster` you built. */
  client: Redis | Cluster
  /** Close `client` in `close()`. Default false: the caller owns it. */
  ownsClient?: boolean
}

export type RedisStoreOptions = RedisClientOptions | RedisUrlOptions

/** Single-key scripts, so they run on whichever cluster node owns the key. */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`
const DELETE_IF_EQUALS = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`

interface Script {
  source: string
  sha: string
}
const script = (source: string): Script => ({
  source,
  sha: crypto.createHash('sha1').update(source).digest('hex'),
})
const SCRIPTS = { compareAndSet: script(COMPARE_AND_SET), deleteIfEquals: script(DELETE_IF_EQUALS) }

/**
 * A `CacheStore` over ioredis, for a single node or a Cluster. Reads of several keys are one
 * MGET on a single node, and one MGET per hash slot (sent together) on a Cluster, where a
 * multi-key command must stay within one slot. Conditional writes are small Lua scripts on one
 * key each. Nothing here enumerates or flushes keys.
 */
export class RedisStore implements CacheStore {
  readonly name = 'redis'
  readonly capabilities: StoreCapabilities
  readonly client: Redis | Cluster
  private readonly ownsClient: boolean
  private readonly cluster: boolean

  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'pass { url } or { client }')
    }
    if ('client' in options && options.client !== undefined) {
      if (typeof options.client.mget !== 'function') {
        throw new InvalidOptionError('client', 'must be an ioredis Redis or Cluster')
      }
      this.client = options.client
      this.ownsClient = options.ownsClient === true
    } else if ('url' in options) {
      this.client = connect(options)
      this.ownsClient = true
    } else {
      throw new InvalidOptionError('options', 'pass { url } or { client }')
    }
    this.cluster = this.client.isCluster === true
    // One node runs MGET atomically and a pipeline in order; a Cluster splits both across nodes.
    this.capabilities = { shared: true, orderedBatches: !this.cluster }
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(key)) ?? undefined
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return []
    if (!this.cluster) return (await this.client.mget(...keys)).map(orUndefined)
    const bySlot = new Map<number, number[]>()
    keys.forEach((key, i) => {
      const slot = keySlot(key)
      const positions = bySlot.get(slot)
      if (positions === undefined) bySlot.set(slot, [i])
      else positions.push(i)
    })
    const out = new Array<string | undefined>(keys.length)
    await Promise.all(
      [...bySlot.values()].map(async (positions) => {
        const values = await this.client.mget(...positions.map((i) => keys[i]!))
        positions.forEach((position, j) => {
          out[position] = orUndefined(values[j])
        })
      }),
    )
    return out
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const ttl = px(ttlMs)
    if (ttl === undefined) await this.client.set(key, value)
    else await this.client.set(key, value, 'PX', ttl)
  }

  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    if (entries.length === 0) return
    if (this.cluster || entries.length === 1) {
      // On a Cluster each SET goes to its own slot's node; auto-pipelining batches them per node.
      await Promise.all(entries.map((entry) => this.set(entry.key, entry.value, entry.ttlMs)))
      return
    }
    const pipeline = this.client.pipeline()
    for (const entry of entries) {
      const ttl = px(entry.ttlMs)
      if (ttl === undefined) pipeline.set(entry.key, entry.value)
      else pipeline.set(entry.key, entry.value, 'PX', ttl)
    }
    const results = (await pipeline.exec()) ?? []
    const failed = results.find(([error]) => error)
    if (failed) throw failed[0]
  }

  async add(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const ttl = px(ttlMs)
    const reply =
      ttl === undefined
        ? await this.client.set(key, value, 'NX')
        : await this.client.set(key, value, 'PX', ttl, 'NX')
    return reply === 'OK'
  }

  async compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean> {
    const ttl = px(ttlMs)
    return (
      (await this.run(SCRIPTS.compareAndSet, key, expected, value, ttl === undefined ? '' : String(ttl))) ===
      1
    )
  }

  async delete(key: string): Promise<void> {
    await this.client.del(key)
  }

  createBus(channel: string): InvalidationBus {
    return new RedisBus(this.client, channel)
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    return (await this.run(SCRIPTS.deleteIfEquals, key, value)) === 1
  }

  /** Resolves once an owned client's connection is closed (QUIT lets queued replies arrive first). */
  async close(): Promise<void> {
    const client = this.client
    if (!this.ownsClient || client.status === 'end') return
    if (client.status !== 'ready') {
      // Not connected: QUIT would wait in the offline queue for a reconnect. Disconnecting
      // cancels the pending reconnect; there is no socket left to wait for.
      client.disconnect()
      return
    }
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
    try {
      await client.quit()
    } catch {
      client.disconnect()
    }
    let timer: NodeJS.Timeout | undefined
    const fallback = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        client.disconnect()
        resolve()
      }, 2_000)
      timer.unref()
    })
    await Promise.race([ended, fallback])
    clearTimeout(timer)
  }

  /** EVALSHA, falling back to EVAL (which also caches the script) on a node that lacks it. */
  private async run(script: Script, key: string, ...args: string[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, 1, key, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return this.client.eval(script.source, 1, key, ...args)
    }
  }
}

export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options)
}

function orUndefined(value: string | null | undefined): string | undefined {
  return value ?? undefined
}

/** PX wants a positive integer; undefined means no expiry. */
function px(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) {
    throw new InvalidOptionError('ttlMs', 'must be a finite number of milliseconds')
  }
  return Math.max(1, Math.ceil(ttlMs))
}
