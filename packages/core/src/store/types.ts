import type { WriteLog } from '../tags/write-log.js'
import type { InvalidationBus } from '../tiers/bus.js'

/**
 * A store moves strings and nothing else: the core owns keys, serialization, tags and TTL
 * policy. Every method may reject; the cache treats any rejection as a store fault and falls
 * back to the database, so a store never needs to swallow its own errors.
 */
export interface CacheStore {
  /** Short name used in events and errors, e.g. "memory", "redis", "memcached". */
  readonly name: string
  readonly capabilities: StoreCapabilities

  get(key: string): Promise<string | undefined>
  /** One round trip where the backend allows it; results are in the order of `keys`. */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>
  /** `ttlMs` undefined means no expiry. Throws `ValueTooLargeError` for values over the limit. */
  set(key: string, value: string, ttlMs?: number): Promise<void>
  setMany(entries: readonly StoreWrite[]): Promise<void>
  /** Writes only if the key is absent; resolves true if this call created it. */
  add(key: string, value: string, ttlMs?: number): Promise<boolean>
  /** Atomically replaces `expected` by `value`; resolves false if the current value differs. */
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean>
  delete(key: string): Promise<void>
  /** Deletes only if the current value equals `value` (lease release by its owner). */
  deleteIfEquals(key: string, value: string): Promise<boolean>
  close(): Promise<void>
  /**
   * Names the data set the store is connected to right now, for a store that can come back with
   * older data than it acknowledged (Redis restarted from a snapshot, a replica promoted before
   * it caught up). It must change whenever that may have happened (Redis: the server's run id,
   * which is new on every start and differs between a master and its replicas), and be undefined
   * from the moment a connection is lost until the new server's id is known, so that a reply
   * from a new server is never judged against the old server's id. Stores that lose everything
   * on a restart (memory, Memcached) leave it out: an empty store can only cause misses.
   */
  lineage?(): string | undefined
  /** Resolves once `lineage()` is known for the current connection (a store with `lineage`). */
  lineageKnown?(): Promise<void>
  /**
   * For a store that detects lost writes per part of its data set (Redis Cluster, see
   * `readVersionsOnly`): calls `listener` with the namespace of the keys whose part lost writes.
   * Returns the unsubscribe function.
   */
  onReset?(listener: (namespace: string) => void): () => void
  /** A bus over the same backend (Redis pub/sub), used for L1 coherence when the cache has L1. */
  createBus?(channel: string): InvalidationBus
  /**
   * Optional fused operations: one round trip each where the backend can do it atomically
   * (Redis scripts). The core composes them from the methods above when a store lacks them.
   */
  readVersions?(request: VersionRead): Promise<string[]>
  lookup?(request: LookupRequest): Promise<LookupReply>
  /**
   * The plain read of a key expected to hit (read-path/plain-hit.ts), for a store whose `lookup`
   * (its own, or the one store-ops.ts composes) costs more than a read: the entry at `entryKey` and each of `keys`, in one round trip, and
   * held wherever `lookup` would be held (Redis holds scripts, not reads, under CLIENT PAUSE
   * WRITE, so a read must not be answered while the writes it should see are held).
   */
  readHit?(entryKey: string, keys: readonly string[]): Promise<(string | undefined)[]>
  /** Stores `write` and releases `lease` (if its owner still holds it) in one round trip. */
  fill?(write: StoreWrite, lease: LeaseRef | undefined): Promise<void>
  /**
   * Bumps `writes` (new tag tokens) and, only if every `guards` key still holds its expected
   * value when the bump is applied, also stores `entry`; resolves whether `entry` was stored.
   * Every write is applied either way.
   */
  bumpGuarded?(writes: readonly StoreWrite[], guards: readonly Guard[], entry: StoreWrite): Promise<boolean>
  /**
   * For a lease waiter: resolves when a fill of `entryKey` is announced after `since`
   * (performance.now()), with the entry as stored when the announcement carried it, or with
   * undefined after `ms`; undefined instead of a promise when the store cannot listen right now
   * (poll).
   */
  waitForFill?(entryKey: string, ms: number, since: number): Promise<string | undefined> | undefined
  /**
   * The cause (e.g. the ECONNREFUSED error) when the store knows its connection is down right
   * now, so a call fails at once instead of waiting for its timeout; undefined while it may work.
   */
  unavailable?(): unknown
  /** A cheap round trip to every server, for the breaker's background probe. */
  ping?(): Promise<void>
  /**
   * The per-table write log (write-log.ts). Without it, reads with dependencies known only after
   * their load skip their fill on any write to their tables during the load.
   */
  readonly writeLog?: WriteLog
}

/**
 * Read version tokens, creating the missing ones: a missing key i gets `${token}.${i}` (the
 * namespace epoch, index 0, without expiry; tags with `tagTtlMs`), and the reply holds whatever
 * token won, so concurrent creators agree on one.
 */
export interface VersionRead {
  keys: readonly string[]
  token: string
  tagTtlMs: number
}

export interface LeaseRef {
  key: string
  owner: string
}

export interface LookupRequest extends VersionRead {
  entryKey: string
  /**
   * Take this lease (SET NX PX) when the entry is absent or its head does not match the
   * versions. A lease already held by the same owner counts as taken.
   */
  lease: (LeaseRef & { ttlMs: number }) | undefined
  /**
   * The store key of tag `t` is `tagKeyPrefix + t` whenever `t` is a direct key (KeySpace.tag).
   * A store that can read versions atomically with the entry may use it to judge an entry stored
   * under other tags than `keys` by its own tags, and report it in `ownCurrent`.
   */
  tagKeyPrefix?: string
  /**
   * The caller treats a present entry as dead whatever its head says (it knows one of the entry's
   * own tags moved since it last saw it current): a store that trims dead entries may send only
   * the head, and takes the lease as for a dead entry. Ignored by stores that do not trim.
   */
  presumeDead?: boolean
}

export interface LookupReply {
  /** The raw entry; only its head lines when the store itself saw that it is invalid. */
  entry: string | undefined
  /** Every version, present or just created, in the order of `keys`. */
  versions: string[]
  /** true: the caller holds the lease; false: another owner does; undefined: not decided. */
  leased: boolean | undefined
  /**
   * Set only when the store judged an entry whose tags differ from the asked ones by its own tags
   * (see `tagKeyPrefix`), in the same atomic read as the entry: true when every one of its
   * versions is current (the namespace epoch included), false when one is not.
   */
  ownCurrent?: boolean
}

export interface Guard {
  key: string
  expected: string
}

export interface StoreWrite {
  key: string
  value: string
  ttlMs?: number
}

export interface StoreCapabilities {
  /** Other processes see the same data (Redis, Memcached), so leases and buses make sense. */
  shared: boolean
  /**
   * A `getMany` sees the writes of a concurrent `setMany` as a prefix, in order (one Redis node:
   * MGET is atomic and a pipeline executes in order; the memory store is synchronous). Without
   * it, ordering-sensitive writes and reads take two sequential round trips (see tags.ts).
   */
  orderedBatches?: boolean
  /** Largest value the backend accepts, in bytes; larger writes are skipped with an event. */
  maxValueBytes?: number
  /**
   * Versions (tags, namespace epoch) may be judged only as read by `readVersions`, which checks
   * that the part of the store holding each one did not lose writes (Redis Cluster); a plain
   * `get`/`getMany` of a version key may return one that a failed-over shard rolled back.
   */
  readVersionsOnly?: boolean
}
