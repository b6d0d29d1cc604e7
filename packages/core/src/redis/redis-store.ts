import type { Cluster, Redis } from 'ioredis'
import { InvalidOptionError } from '../errors.js'
import { composeBumpGuarded } from '../store/store-ops.js'
import type {
  CacheStore,
  Guard,
  LeaseRef,
  LookupReply,
  LookupRequest,
  StoreCapabilities,
  StoreWrite,
  VersionRead,
} from '../store/types.js'
import type { WriteLog } from '../tags/write-log.js'
import type { InvalidationBus } from '../tiers/bus.js'
import { knownKeys } from '../validate.js'
import { RedisBus } from './redis-bus.js'
import { connect, type RedisUrlOptions } from './redis-connect.js'
import { corkUntilImmediates } from './redis-cork.js'
import { sendNow } from './redis-direct.js'
import { HitBatches } from './redis-hit-batch.js'
import { RedisLineage } from './redis-lineage.js'
import {
  BUMP_GUARDED,
  COMPARE_AND_SET,
  DELETE_IF_EQUALS,
  FILL,
  LOOKUP,
  LOOKUP_ENTRY,
  runScript,
  type Script,
  VERSIONS,
  VERSIONS_LIFE,
} from './redis-scripts.js'
import { keySlot } from './redis-slot.js'
import { RedisWaker, WAKE_CHANNEL } from './redis-wake.js'
import { redisWriteLog } from './redis-write-log.js'

export interface RedisClientOptions {
  /** An ioredis `Redis` or `Cluster` you built. */
  client: Redis | Cluster
  /** Close `client` in `close()`. Default false: the caller owns it. */
  ownsClient?: boolean
}

export type RedisStoreOptions = RedisClientOptions | RedisUrlOptions

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
  /**
   * The connected server's run id (single node). A Cluster has none: its data set is several
   * servers whose failovers do not always drop a connection, so each version script checks the
   * life of the shard that runs it instead (VERSIONS_LIFE, docs/design.md "Stores that lose writes").
   */
  readonly lineage?: () => string | undefined
  readonly lineageKnown?: () => Promise<void>

  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'pass { url } or { client }')
    }
    if ('client' in options && options.client !== undefined) {
      if (typeof options.client.mget !== 'function') {
        throw new InvalidOptionError('client', 'must be an ioredis Redis or Cluster')
      }
      knownKeys('', options, ['client', 'ownsClient'])
      this.client = options.client
      this.ownsClient = options.ownsClient === true
    } else if ('url' in options) {
      this.client = connect(options)
      this.ownsClient = true
    } else {
      throw new InvalidOptionError('options', 'pass { url } or { client }')
    }
    this.cluster = this.client.isCluster === true
    // Remember why the connection went away, so calls fail fast with that cause (unavailable())
    // instead of waiting in ioredis's offline queue until their timeout.
    const client = this.client as Redis
    let lastError: unknown
    client.on('error', (error: unknown) => {
      lastError = error
      if (client.status !== 'ready') this.connectionError = error
    })
    client.on('close', () => {
      this.connectionError = lastError ?? new Error('redis connection closed')
    })
    client.on('ready', () => {
      lastError = undefined
      this.connectionError = undefined
    })
    // One node runs MGET atomically and a pipeline in order; a Cluster splits both across nodes.
    this.capabilities = this.cluster
      ? { shared: true, orderedBatches: false, readVersionsOnly: true }
      : { shared: true, orderedBatches: true }
    if (!this.cluster) {
      const lineage = new RedisLineage(this.client as Redis)
      this.lineage = () => lineage.current()
      this.lineageKnown = () => lineage.known()
    }
    this.writeLog = redisWriteLog({
      client: this.client,
      cluster: this.cluster,
      setMany: (entries) => this.setMany(entries),
      readVersions: (request) => this.readVersions(request),
      fill: (write, lease) => this.fill(write, lease),
      bumpGuarded: (writes, guards, entry) => this.bumpGuarded(writes, guards, entry),
      pxArg,
      wakeChannel: WAKE_CHANNEL,
    })
  }

  /** The per-table write log (write-log.ts), in scripts; see redis-write-log.ts for the Cluster. */
  readonly writeLog: WriteLog

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(key)) ?? undefined
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return []
    if (!this.cluster) {
      corkUntilImmediates(this.client)
      return ((await sendNow(this.client as Redis, 'mget', keys)) as (string | null)[]).map(orUndefined)
    }
    const out = new Array<string | undefined>(keys.length)
    await Promise.all(
      bySlot(keys).map(async (positions) => {
        const values = await this.client
          .mget(...positions.map((i) => keys[i]!))
          .catch((error: unknown) => this.redirected(error))
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
    return (await this.run(COMPARE_AND_SET, [key], [expected, value, pxArg(ttlMs)])) === 1
  }

  /**
   * One script on a single node; one per slot (sent together) on a Cluster, where each also
   * checks the life of the shard that runs it (VERSIONS_LIFE).
   */
  async readVersions({ keys, token, tagTtlMs }: VersionRead): Promise<string[]> {
    const ttl = pxArg(tagTtlMs)
    if (!this.cluster) {
      return (await this.run(VERSIONS, keys, [token, ttl, ...keys.map((_, i) => String(i))])) as string[]
    }
    const lifeTtl = tagTtlMs === undefined ? '' : pxArg(tagTtlMs * LIFE_TTL_FACTOR)
    const out = new Array<string>(keys.length)
    await Promise.all(
      bySlot(keys).map(async (positions) => {
        const own = positions.map((i) => keys[i]!)
        const values = (await this.run(
          VERSIONS_LIFE,
          [...own, ...own.map(lifeKey)],
          [token, ttl, lifeTtl, ...positions.map(String)],
        )) as string[]
        positions.forEach((position, j) => {
          out[position] = values[j]!
        })
        const lost = values[positions.length]
        if (lost) this.resets.report(own[0]!, lost)
      }),
    )
    return out
  }

  /** Listeners told when a Cluster shard is found to have lost writes (see `onReset`). */
  private readonly resets = new ResetReports()

  /**
   * Calls `listener` with the namespace (the store key's prefix) whenever a Cluster version read
   * found that a shard lost writes and replaced what it had rolled back; once per namespace and
   * shard life. Returns the unsubscribe function.
   */
  onReset(listener: (namespace: string) => void): () => void {
    return this.resets.listen(listener)
  }

  /**
   * Single node: one script reads the entry and every version (creating missing ones) and takes
   * the lease if the entry is dead. Cluster: the entry script (entry + lease share a slot) and
   * the per-slot version scripts go out together; the lease is decided only for an absent entry.
   */
  async lookup(request: LookupRequest): Promise<LookupReply> {
    const { entryKey, keys, lease } = request
    const leaseKey = lease?.key ?? `{${entryKey}}:nolease`
    const waitKey = `{${entryKey}}:w`
    const owner = lease?.owner ?? ''
    const leaseTtl = lease === undefined ? '' : pxArg(lease.ttlMs)
    if (!this.cluster) {
      const reply = (await this.run(
        LOOKUP,
        [entryKey, leaseKey, waitKey, ...keys],
        [
          request.token,
          pxArg(request.tagTtlMs),
          owner,
          leaseTtl,
          request.tagKeyPrefix ?? '',
          request.presumeDead === true ? '1' : '',
        ],
      )) as [string | null, number, number, ...string[]]
      const own = reply[2]
      return {
        entry: orUndefined(reply[0]),
        leased: leasedOf(reply[1]),
        versions: reply.slice(3) as string[],
        ...(own === -1 ? {} : { ownCurrent: own === 1 }),
      }
    }
    const [entry, versions] = await Promise.all([
      this.run(LOOKUP_ENTRY, [entryKey, leaseKey, waitKey], [owner, leaseTtl]) as Promise<
        [string | null, number]
      >,
      this.readVersions(request),
    ])
    return { entry: orUndefined(entry[0]), leased: leasedOf(entry[1]), versions }
  }

  /**
   * The hit read on a single node (read-path/plain-hit.ts): GETEX of the entry, then MGET of the
   * versions, pipelined on the one connection, shared by the hit reads of one tick
   * (redis-hit-batch.ts). GETEX without options only reads, but Redis counts
   * it as a write, so under CLIENT PAUSE WRITE it is held like the LOOKUP script it replaces, and
   * the MGET behind it on the connection with it: a process whose invalidation is held cannot
   * have its old entry served elsewhere meanwhile (test/client-pause.test.ts). Not on a Cluster,
   * whose versions are read through VERSIONS_LIFE only.
   */
  readHit(entryKey: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    // Not async: the batch's promise is returned as is, one promise and one hop less per hit.
    if (this.cluster) return Promise.reject(new InvalidOptionError('readHit', 'not on a Redis Cluster'))
    this.hits ??= new HitBatches(this.client as Redis)
    return this.hits.read(entryKey, keys)
  }

  /** The hit reads of each tick go out together (redis-hit-batch.ts); single node only. */
  private hits: HitBatches | undefined

  /** Entry and lease share a slot (keys.ts), so this is one script on a Cluster as well. */
  async fill(write: StoreWrite, lease: LeaseRef | undefined): Promise<void> {
    await this.run(
      FILL,
      [write.key, lease?.key ?? `{${write.key}}:nolease`, `{${write.key}}:w`],
      [write.value, pxArg(write.ttlMs), lease?.owner ?? '', WAKE_CHANNEL],
    )
  }

  async bumpGuarded(
    writes: readonly StoreWrite[],
    guards: readonly Guard[],
    entry: StoreWrite,
  ): Promise<boolean> {
    // On a Cluster the guards, bumps and entry live in different slots: no single script sees
    // them all, so compose it (compare-and-set per guard, then the entry).
    if (this.cluster) return composeBumpGuarded(this, writes, guards, entry)
    const keys = [...guards.map((g) => g.key), ...writes.map((w) => w.key), entry.key]
    const args = [String(guards.length), String(writes.length), ...guards.map((g) => g.expected)]
    for (const write of [...writes, entry]) args.push(write.value, pxArg(write.ttlMs))
    return (await this.run(BUMP_GUARDED, keys, args)) === 1
  }

  async delete(key: string): Promise<void> {
    await this.client.del(key)
  }

  createBus(channel: string): InvalidationBus {
    return new RedisBus(this.client, channel)
  }

  /** Resolves when a fill of `entryKey` announces itself (see FILL), or after `ms`. */
  waitForFill(entryKey: string, ms: number, since: number): Promise<string | undefined> | undefined {
    this.waker ??= new RedisWaker(this.client)
    // The first wait of a process opens the subscription; its waiters look again once it is live
    // instead of backing off (a cold subscriber takes a few ms to connect on a busy process).
    if (!this.waker.listening) return this.waker.untilListening(ms)
    return this.waker.wait(entryKey, ms, since)
  }

  private waker: RedisWaker | undefined
  private connectionError: unknown

  unavailable(): unknown {
    return this.client.status === 'ready' ? undefined : this.connectionError
  }

  async ping(): Promise<void> {
    await this.client.ping()
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    return (await this.run(DELETE_IF_EQUALS, [key], [value])) === 1
  }

  /** Resolves once an owned client's connection is closed (QUIT lets queued replies arrive first). */
  async close(): Promise<void> {
    this.waker?.close()
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

  private run(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const sent = runScript(this.client, script, keys, args)
    return this.cluster ? sent.catch((error: unknown) => this.redirected(error)) : sent
  }

  /**
   * ioredis follows a MOVED reply, except inside an auto-pipeline whose other commands succeeded:
   * that one reaches us as is, and nothing refreshes the slot map, so after a master came back
   * (or a replica took over) every later read of its slots failed the same way. Refreshing here
   * makes it a single failed (bypassed) read.
   */
  private redirected(error: unknown): never {
    if (error instanceof Error && /^(MOVED|ASK) /.test(error.message))
      (this.client as Cluster).refreshSlotsCache()
    throw error
  }
}

export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options)
}

/**
 * A life key outlives its version key (tags are re-created after expiry, and a bump refreshes the
 * version's ttl but not its life key's): when it expires first the version is replaced once more,
 * a miss and never a stale hit.
 */
const LIFE_TTL_FACTOR = 2

/**
 * The key naming the shard life that last stamped version key `key`, in `key`'s slot (its hash
 * tag is all of `key`: version keys never contain a brace) and under its namespace prefix.
 */
function lifeKey(key: string): string {
  const colon = key.indexOf(':')
  return colon === -1 ? `life:{${key}}` : `${key.slice(0, colon)}:life:{${key}}`
}

class ResetReports {
  private readonly listeners = new Set<(namespace: string) => void>()
  private readonly seen = new Set<string>()

  listen(listener: (namespace: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  report(key: string, life: string): void {
    const colon = key.indexOf(':')
    const namespace = colon === -1 ? '' : key.slice(0, colon)
    const id = `${namespace} ${life}`
    if (this.seen.has(id)) return
    // Bounded: a long-lived process sees few failovers; starting over only repeats a report.
    if (this.seen.size >= 1_024) this.seen.clear()
    this.seen.add(id)
    for (const listener of this.listeners) listener(namespace)
  }
}

function orUndefined(value: string | null | undefined): string | undefined {
  return value ?? undefined
}

/** Positions of `keys` grouped by Cluster hash slot. */
function bySlot(keys: readonly string[]): number[][] {
  const groups = new Map<number, number[]>()
  keys.forEach((key, i) => {
    const slot = keySlot(key)
    const positions = groups.get(slot)
    if (positions === undefined) groups.set(slot, [i])
    else positions.push(i)
  })
  return [...groups.values()]
}

function leasedOf(reply: number): boolean | undefined {
  return reply === 1 ? true : reply === 0 ? false : undefined
}

/** The ttl argument of a script: PX milliseconds, or '' for no expiry. */
function pxArg(ttlMs: number | undefined): string {
  const ttl = px(ttlMs)
  return ttl === undefined ? '' : String(ttl)
}

/** PX wants a positive integer; undefined means no expiry. */
function px(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) {
    throw new InvalidOptionError('ttlMs', 'must be a finite number of milliseconds')
  }
  return Math.max(1, Math.ceil(ttlMs))
}
