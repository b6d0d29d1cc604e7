import type memjs from 'memjs'
import { InvalidOptionError, ValueTooLargeError } from '../errors.js'
import { loadPeer } from '../store/peer.js'
import type { CacheStore, LeaseRef, StoreCapabilities, StoreWrite } from '../store/types.js'
import { booleanOption, integerOption, knownKeys, MAX_TIMER_MS } from '../validate.js'
import { HashRing } from './hash-ring.js'
import { memcachedKey } from './memcached-keys.js'
import { type Item, MemcachedNode, Opcode, Status } from './memcached-node.js'
import { parseServers } from './memcached-servers.js'
import { memcachedExpiration } from './memcached-ttl.js'

/** Connection options passed to every memjs server connection this store creates. */
export interface MemcachedConnectionOptions {
  /** SASL credentials for every server (or per server as "user:pass@host:port"). */
  username?: string
  password?: string
  /** Seconds to wait for a reply before the request fails. memjs default 0.5. */
  timeout?: number
  /** Seconds to wait for a connection. memjs default: twice `timeout`. */
  conntimeout?: number
  keepAlive?: boolean
  keepAliveDelay?: number
  /** Attempts per operation, 1 = no retry (default): the cache already falls back to the database. */
  retries?: number
  /** Seconds between attempts when `retries` > 1. */
  retry_delay?: number
}

export interface MemcachedCommonOptions {
  /**
   * Largest value in bytes (UTF-8) this store sends; larger ones are refused with
   * `ValueTooLargeError` before any network call. Default: 1 MiB minus 512 bytes, which fits
   * memcached's default item size (`-I 1m`) together with any key and the item header.
   */
  maxValueBytes?: number
}

export interface MemcachedServersOptions extends MemcachedCommonOptions, MemcachedConnectionOptions {
  /** "host:port" entries, comma-separated or as a list; spread over a consistent hash ring. */
  servers: string | readonly string[]
  /** Virtual nodes per server on the hash ring. Default 160. */
  pointsPerNode?: number
}

export interface MemcachedClientOptions extends MemcachedCommonOptions {
  /** A memjs client you built; it routes keys with its own server selection. */
  client: memjs.Client
  /** Close `client` in `close()`. Default false: the caller owns it. */
  ownsClient?: boolean
}

export type MemcachedStoreOptions = MemcachedServersOptions | MemcachedClientOptions

export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024 - 512

const QUIET = { log() {} }

interface Placement {
  wire: string
  node: MemcachedNode
}
/** Keys whose placement `place()` remembers (see there). */
const PLACED_KEYS = 10_000

/**
 * A `CacheStore` over one or more memcached servers (memjs, binary protocol). Each server has
 * its own connection and a consistent hash ring picks the server of every key, so a dead server
 * only fails its own keys (the cache then goes to the database) instead of having them silently
 * rehashed onto a neighbour that never saw their invalidations.
 */
export class MemcachedStore implements CacheStore {
  readonly name = 'memcached'
  readonly capabilities: StoreCapabilities
  private readonly maxValueBytes: number
  private readonly ring: HashRing | undefined
  private readonly nodes = new Map<string, MemcachedNode>()
  private readonly placed = new Map<string, Placement>()
  private readonly ownsClients: boolean

  constructor(options: MemcachedStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'pass { servers } or { client }')
    }
    for (const unsupported of ['tls', 'failover'] as const) {
      if (unsupported in options) throw new InvalidOptionError(unsupported, UNSUPPORTED[unsupported])
    }
    knownKeys('', options, 'client' in options ? CLIENT_OPTIONS : SERVERS_OPTIONS)
    this.maxValueBytes = positiveInteger('maxValueBytes', options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES)
    this.capabilities = { shared: true, maxValueBytes: this.maxValueBytes }

    if ('client' in options) {
      if (typeof options.client?.perform !== 'function') {
        throw new InvalidOptionError('client', 'must be a memjs.Client')
      }
      this.nodes.set('client', new MemcachedNode(options.client, 'client'))
      this.ownsClients = options.ownsClient === true
      return
    }
    if (!('servers' in options)) throw new InvalidOptionError('options', 'pass { servers } or { client }')
    const servers = parseServers(options.servers)
    const connection = connectionOptions(options)
    const { Client, Server } = loadPeer<typeof memjs>('memjs', '@ormcache/core/memcached')
    for (const server of servers) {
      const socket = new Server(
        server.host,
        server.port,
        server.username ?? options.username,
        server.password ?? options.password,
        connection,
      )
      // failover stays off: memjs would otherwise move a dead server's keys to the next one.
      const client = new Client([socket], {
        retries: options.retries ?? 1,
        retry_delay: options.retry_delay ?? 0.2,
        failover: false,
        expires: 0,
        logger: QUIET,
      })
      this.nodes.set(server.id, new MemcachedNode(client, server.id))
    }
    this.ring = new HashRing(
      servers.map((s) => s.id),
      options.pointsPerNode === undefined ? {} : { pointsPerNode: options.pointsPerNode },
    )
    this.ownsClients = true
  }

  /** "host:port" of the server that holds `key` ("client" when built from a memjs client). */
  serverFor(key: string): string {
    return this.node(key).address
  }

  async get(key: string): Promise<string | undefined> {
    const wire = memcachedKey(key)
    return (await this.node(key).get(wire))?.value
  }

  /**
   * Joins, per server, the multi-get that leaves on the next tick (MemcachedNode.joinGet): the
   * concurrent reads of one tick share one GETKQ … NOOP packet per server.
   */
  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    const count = keys.length
    const wires = new Array<string>(count)
    const batches = new Array<Promise<Map<string, string>>>(count)
    let single = true
    for (let i = 0; i < count; i++) {
      const place = this.place(keys[i]!)
      wires[i] = place.wire
      batches[i] = place.node.joinGet(place.wire)
      if (batches[i] !== batches[0]) single = false
    }
    if (count === 0) return []
    // Most hits touch one or two servers: skip the bookkeeping of the general case for one.
    if (single) {
      const found = await batches[0]!
      return wires.map((wire) => found.get(wire))
    }
    const unique = [...new Set(batches)]
    const found = await Promise.all(unique)
    const byBatch = new Map(unique.map((batch, i) => [batch, found[i]!]))
    return wires.map((wire, i) => byBatch.get(batches[i]!)!.get(wire))
  }

  /**
   * The plain read of a key expected to hit (read-path/plain-hit.ts): the entry and `keys` in the
   * same per-server multi-get as a lookup, which on memcached is exactly this read (no scripts:
   * store-ops.ts composes the lookup from getMany). Offering it lets a hit skip the lookup batch's
   * extra tick and the miss bookkeeping of the full lookup; anything but a fresh, current hit still
   * takes the full lookup.
   */
  readHit(entryKey: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    const count = keys.length
    const asked = new Array<string>(count + 1)
    asked[0] = entryKey
    for (let i = 0; i < count; i++) asked[i + 1] = keys[i]!
    return this.getMany(asked)
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const write = this.prepare(key, value, ttlMs)
    const status = await write.node.store(Opcode.set, write.wire, write.bytes, write.expiration)
    this.expectStored(write, 'set', status)
  }

  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    // Every size is checked before anything is sent, so a refused batch writes nothing.
    const writes = entries.map((entry) => this.prepare(entry.key, entry.value, entry.ttlMs))
    await Promise.all(
      writes.map(async (write) => {
        const status = await write.node.store(Opcode.set, write.wire, write.bytes, write.expiration)
        this.expectStored(write, 'set', status)
      }),
    )
  }

  async add(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const write = this.prepare(key, value, ttlMs)
    const status = await write.node.store(Opcode.add, write.wire, write.bytes, write.expiration)
    if (status === Status.exists || status === Status.notStored) return false
    this.expectStored(write, 'add', status)
    return true
  }

  /**
   * gets, compare, then a set carrying the CAS unique just read: memcached applies it only if
   * nobody wrote the item in between, so a `true` is never a lost race.
   */
  async compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean> {
    const write = this.prepare(key, value, ttlMs)
    const item = await write.node.get(write.wire)
    if (item === undefined || item.value !== expected) return false
    const status = await write.node.store(Opcode.set, write.wire, write.bytes, write.expiration, item.cas)
    if (status === Status.exists || status === Status.notFound) return false
    this.expectStored(write, 'compareAndSet', status)
    return true
  }

  async delete(key: string): Promise<void> {
    const wire = memcachedKey(key)
    const node = this.node(key)
    const status = await node.delete(wire)
    if (status !== Status.ok && status !== Status.notFound) throw node.failure('delete', status)
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    const wire = memcachedKey(key)
    const node = this.node(key)
    const item: Item | undefined = await node.get(wire)
    if (item === undefined || item.value !== value) return false
    const status = await node.delete(wire, item.cas)
    if (status === Status.exists || status === Status.notFound) return false
    if (status !== Status.ok) throw node.failure('deleteIfEquals', status)
    return true
  }

  /** A NOOP to every server: the breaker closes only once all of them answer again. */
  async ping(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.ping()))
  }

  async close(): Promise<void> {
    if (!this.ownsClients) return
    for (const node of this.nodes.values()) node.close()
  }

  /**
   * The server of `key` on the ring. A key with a hash tag ("…{tag}…") is placed by its tag, as on
   * a Redis Cluster: an entry's lease (`<ns>:l:{<entry key>}`) lives on the entry's server, so
   * `fill` can store the entry and release the lease on one connection, in that order.
   */
  private node(key: string): MemcachedNode {
    return this.place(key).node
  }

  /**
   * The wire key and server of `key`. Every hit places its entry, the epoch and its tags:
   * recent keys are remembered instead of hashed again (an MD5 for the ring, a pattern test for
   * the wire form). Bounded; the ring never changes, so no remembered placement goes stale.
   */
  private place(key: string): Placement {
    const known = this.placed.get(key)
    if (known !== undefined) return known
    const wire = memcachedKey(key)
    let node: MemcachedNode
    if (this.ring === undefined) node = this.nodes.get('client')!
    else {
      const open = key.indexOf('{')
      const close = open === -1 ? -1 : key.indexOf('}', open + 1)
      const route = close > open + 1 ? key.slice(open + 1, close) : key
      node = this.nodes.get(this.ring.node(route === key ? wire : memcachedKey(route)))!
    }
    if (this.placed.size >= PLACED_KEYS) this.placed.clear()
    const place = { wire, node }
    this.placed.set(key, place)
    return place
  }

  /**
   * Stores the entry, then releases the lease. With our own ring both are on one server, so they
   * are written together and memcached applies them in order; a memjs client's own routing gives
   * no such promise, so there the release waits for the store.
   */
  async fill(write: StoreWrite, lease: LeaseRef | undefined): Promise<void> {
    if (lease === undefined) return this.set(write.key, write.value, write.ttlMs)
    if (this.ring === undefined || this.node(lease.key) !== this.node(write.key)) {
      await this.set(write.key, write.value, write.ttlMs)
      await this.deleteIfEquals(lease.key, lease.owner).catch(() => false) // else it expires
      return
    }
    const [stored] = await Promise.allSettled([
      this.set(write.key, write.value, write.ttlMs),
      this.deleteIfEquals(lease.key, lease.owner),
    ])
    if (stored.status === 'rejected') throw stored.reason
  }

  private prepare(key: string, value: string, ttlMs: number | undefined) {
    const bytes = Buffer.from(value, 'utf8')
    if (bytes.length > this.maxValueBytes) throw new ValueTooLargeError(key, bytes.length, this.maxValueBytes)
    if (ttlMs !== undefined && !(typeof ttlMs === 'number' && Number.isFinite(ttlMs))) {
      throw new InvalidOptionError('ttlMs', 'must be a finite number of milliseconds')
    }
    const wire = memcachedKey(key)
    return { key, wire, bytes, expiration: memcachedExpiration(ttlMs), node: this.node(key) }
  }

  private expectStored(
    write: { key: string; bytes: Buffer; node: MemcachedNode },
    op: string,
    status: number,
  ) {
    if (status === Status.ok) return
    // The server's item limit (-I) is below ours: it refused a value of this size.
    if (status === Status.tooLarge)
      throw new ValueTooLargeError(write.key, write.bytes.length, write.bytes.length - 1)
    throw write.node.failure(op, status)
  }
}

export function memcachedStore(options: MemcachedStoreOptions): MemcachedStore {
  return new MemcachedStore(options)
}

const UNSUPPORTED = {
  tls: 'memjs 1.3 cannot speak TLS; reach TLS servers through a local TLS tunnel',
  failover:
    "is not supported: it would move a dead server's keys to a neighbour that never saw their invalidations",
}

const CLIENT_OPTIONS = ['client', 'ownsClient', 'maxValueBytes']
const SERVERS_OPTIONS = [
  'servers',
  'pointsPerNode',
  'maxValueBytes',
  'username',
  'password',
  'timeout',
  'conntimeout',
  'keepAlive',
  'keepAliveDelay',
  'retries',
  'retry_delay',
]

/** memjs counts these in seconds; a timer past 2^31-1 ms would fire at once. */
const MAX_SECONDS = Math.floor(MAX_TIMER_MS / 1000)

function connectionOptions(options: MemcachedConnectionOptions): memjs.ServerOptions {
  const out: memjs.ServerOptions = {}
  if (options.timeout !== undefined) out.timeout = seconds('timeout', options.timeout)
  if (options.conntimeout !== undefined) out.conntimeout = seconds('conntimeout', options.conntimeout)
  if (options.keepAlive !== undefined) out.keepAlive = booleanOption('keepAlive', options.keepAlive)
  if (options.keepAliveDelay !== undefined)
    out.keepAliveDelay = seconds('keepAliveDelay', options.keepAliveDelay)
  if (options.retries !== undefined) integerOption('retries', options.retries, 1, 100)
  if (options.retry_delay !== undefined) seconds('retry_delay', options.retry_delay)
  for (const name of ['username', 'password'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'string') {
      throw new InvalidOptionError(name, 'must be a string')
    }
  }
  return out
}

function seconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_SECONDS) {
    throw new InvalidOptionError(name, `must be a positive number of seconds, at most ${MAX_SECONDS}`)
  }
  return value
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidOptionError(name, 'must be a positive integer')
  }
  return value
}
