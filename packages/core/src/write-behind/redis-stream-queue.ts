import crypto from 'node:crypto'
import os from 'node:os'
import type { Cluster, Redis } from 'ioredis'
import { InvalidOptionError, WriteBehindError } from '../errors.js'
import { runScript } from '../redis/redis-scripts.js'
import { withTimeout } from '../store/timeout.js'
import { booleanOption, knownKeys, optionsObject } from '../validate.js'
import { integer } from './options.js'
import type {
  DeadLetterRecord,
  LockVerdict,
  QueueDurability,
  QueuedWrite,
  QueueOwner,
  ReplayVerdict,
  WriteBehindQueue,
} from './queue.js'
import { encodeRecord, encodeTags, entryArgs, parseRecord } from './redis-stream-entries.js'
import { StreamReader } from './redis-stream-reader.js'
import { STREAM_SCRIPTS } from './redis-stream-scripts.js'

export interface RedisStreamQueueOptions {
  /** An ioredis `Redis` or `Cluster`; the caller owns it (the queue never closes it). */
  client: Redis | Cluster
  /** Queue name; writers that share it share one stream. Default "default". */
  name?: string
  /**
   * Key prefix. Default: the namespace of the cache whose writer uses the queue, so tenants with
   * different namespaces never share a stream even when they pick the same `name`. An explicit
   * value must equal that namespace unless `shareAcrossNamespaces` is set.
   */
  namespace?: string
  /**
   * Lets writers of caches with different namespaces share this queue's stream (an explicit
   * `namespace` that differs from the cache's). Every flusher then receives every tenant's keys:
   * only for a `flush` that handles them all. Default false.
   */
  shareAcrossNamespaces?: boolean
  /** Consumer group of the flushers. Default "flushers". */
  group?: string
  /** This process's consumer name; must be unique per process. Default host:pid:random. */
  consumer?: string
  /** Entries idle this long in a consumer's pending list are taken over (crashed consumer). Default 30,000 ms. */
  claimIdleMs?: number
  /** Lifetime of a key's flush lock; renewed every third of it while a flush runs. Default `claimIdleMs`. */
  lockMs?: number
  /** A queue command that takes longer fails (a write then falls back to the database). Default 2,000 ms. */
  timeoutMs?: number
}

const KNOWN = [
  'client',
  'name',
  'namespace',
  'shareAcrossNamespaces',
  'group',
  'consumer',
  'claimIdleMs',
  'lockMs',
  'timeoutMs',
] as const

const SAFE_NAME = /^[A-Za-z0-9._-]{1,64}$/

/**
 * A durable write-behind queue on a Redis Stream with a consumer group. Writes are appended
 * with XADD (and recorded as their key's latest write in the same script); flushers read them
 * with XREADGROUP, take over entries a crashed consumer left pending with XAUTOCLAIM, and
 * XACK+XDEL them once flushed (see StreamReader). A per-key lock keeps two live consumers from
 * flushing one key at the same time, so a slow flush of an old value cannot land after a newer
 * one. All keys share the hash tag `{<namespace>:wb:<name>}`: one slot, so every script is
 * atomic on Redis Cluster too. Reads never block, so the client can be shared with `redisStore`.
 */
export class RedisStreamQueue implements WriteBehindQueue {
  readonly kind = 'redis-stream'
  readonly durable = true
  readonly keepAliveMs: number
  readonly consumer: string
  private readonly client: Redis | Cluster
  private readonly group: string
  private readonly lockMs: number
  private readonly timeoutMs: number
  private readonly claimIdleMs: number
  private readonly name: string
  /** Set when the caller named the namespace; otherwise the attaching cache's namespace is used. */
  private readonly explicitNamespace: string | undefined
  private readonly shareAcrossNamespaces: boolean
  private base = ''
  private stream = ''
  private latest = ''
  private dead = ''
  private reader!: StreamReader
  private readonly rawRecords = new WeakMap<DeadLetterRecord, string>()
  private attached = false

  constructor(options: RedisStreamQueueOptions) {
    knownKeys('', optionsObject('options', options, 'pass { client }'), KNOWN)
    const { client } = options
    if (typeof client !== 'object' || client === null || typeof client.xreadgroup !== 'function') {
      throw new InvalidOptionError('client', 'must be an ioredis Redis or Cluster')
    }
    this.client = client
    this.name = safeName('name', options.name ?? 'default')
    this.explicitNamespace =
      options.namespace === undefined ? undefined : safeName('namespace', options.namespace)
    this.shareAcrossNamespaces =
      options.shareAcrossNamespaces === undefined
        ? false
        : booleanOption('shareAcrossNamespaces', options.shareAcrossNamespaces)
    this.group = safeName('group', options.group ?? 'flushers')
    this.consumer =
      options.consumer ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`
    if (typeof this.consumer !== 'string' || this.consumer.length === 0) {
      throw new InvalidOptionError('consumer', 'must be a non-empty string')
    }
    this.claimIdleMs = integer('claimIdleMs', options.claimIdleMs ?? 30_000, 1)
    this.lockMs = integer('lockMs', options.lockMs ?? this.claimIdleMs, 3)
    this.timeoutMs = integer('timeoutMs', options.timeoutMs ?? 2_000, 1)
    this.keepAliveMs = Math.max(1, Math.floor(Math.min(this.lockMs, this.claimIdleMs) / 3))
    this.bind(this.explicitNamespace ?? 'ormcache')
  }

  /** The stream, latest-write hash and dead-letter list of `namespace`, in one hash slot. */
  private bind(namespace: string): void {
    this.base = `{${namespace}:wb:${this.name}}`
    this.stream = `${this.base}:stream`
    this.latest = `${this.base}:latest`
    this.dead = `${this.base}:dead`
    this.reader = new StreamReader({
      client: this.client,
      stream: this.stream,
      group: this.group,
      consumer: this.consumer,
      claimIdleMs: this.claimIdleMs,
      timed: (promise) => this.timed(promise),
      open: () => this.open(),
      deadLetter: (entries, error, attempts) => this.deadLetter(entries, error, attempts),
    })
  }

  attach(owner?: QueueOwner): void {
    if (this.attached)
      throw new WriteBehindError('This queue is already used by another writer; create one per writer')
    if (owner !== undefined) {
      if (this.explicitNamespace === undefined) this.bind(owner.namespace)
      else if (this.explicitNamespace !== owner.namespace && !this.shareAcrossNamespaces) {
        throw new InvalidOptionError(
          'namespace',
          `is "${this.explicitNamespace}" but the cache's namespace is "${owner.namespace}": writers of different namespaces would share one stream and flush (or drop as superseded) each other's keys. Leave namespace out, or pass shareAcrossNamespaces: true`,
        )
      }
    }
    this.attached = true
  }

  /**
   * Whether the Redis behind the queue keeps acknowledged writes across its own crash: only with
   * AOF (`appendonly yes`); RDB snapshots lose everything since the last one. On a Cluster every
   * master is asked. A server that refuses `CONFIG GET` (ACL, renamed on managed services) gets
   * `unknown`: nothing can be promised then.
   */
  async durability(): Promise<QueueDurability> {
    const nodes: (Redis | Cluster)[] =
      'nodes' in this.client && typeof this.client.nodes === 'function'
        ? this.client.nodes('master')
        : [this.client]
    let fsync = new Set<string>()
    try {
      if (nodes.length === 0) throw new Error('no Redis node is connected yet')
      for (const node of nodes) {
        const [, appendonly] = (await this.timed(node.config('GET', 'appendonly'))) as string[]
        if (appendonly === undefined) throw new Error('CONFIG GET appendonly returned nothing')
        if (appendonly !== 'yes') {
          return {
            persistence: 'none',
            detail: `Redis runs without AOF (appendonly ${appendonly}): acknowledged write-behind writes not yet flushed are lost if Redis crashes or restarts. Set appendonly yes (appendfsync always for no loss at all).`,
          }
        }
        const [, mode] = (await this.timed(node.config('GET', 'appendfsync'))) as string[]
        if (mode !== undefined) fsync.add(mode)
      }
    } catch (error) {
      return {
        persistence: 'unknown',
        detail: `Cannot tell whether Redis keeps acknowledged write-behind writes across a crash: CONFIG GET appendonly could not be read (${error instanceof Error ? error.message : String(error)}). They survive only with appendonly yes.`,
      }
    }
    fsync = fsync.size === 0 ? new Set(['unknown']) : fsync
    return {
      persistence: 'aof',
      detail: `AOF on (appendfsync ${[...fsync].join('/')})${fsync.has('always') && fsync.size === 1 ? '' : ': a crash may lose up to the last second of acknowledged writes'}`,
    }
  }

  async open(): Promise<void> {
    try {
      await this.timed(this.client.xgroup('CREATE', this.stream, this.group, '0', 'MKSTREAM'))
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error
    }
  }

  async enqueue(write: Omit<QueuedWrite, 'id'>): Promise<string> {
    // Never park a write in ioredis's offline queue: it would be sent long after write() gave up.
    const status = this.client.status
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      throw new WriteBehindError(`Redis is not connected (status "${status}")`)
    }
    const keys = [this.stream, this.latest]
    return String(await this.timed(runScript(this.client, STREAM_SCRIPTS.enqueue, keys, entryArgs(write))))
  }

  pass(max: number): AsyncIterable<QueuedWrite[]> {
    return this.reader.pass(max)
  }

  async lock(entries: readonly QueuedWrite[]): Promise<LockVerdict[]> {
    const reply = await this.perEntry(STREAM_SCRIPTS.lock, [this.latest, this.stream], entries, [
      this.group,
      this.consumer,
      this.lockMs,
      ...entries.flatMap((entry) => [entry.id, entry.key]),
    ])
    return reply.map((code) => (code === 1 ? 'ok' : code === 2 ? 'busy' : 'stale'))
  }

  async complete(entries: readonly QueuedWrite[]): Promise<boolean[]> {
    const reply = await this.perEntry(STREAM_SCRIPTS.complete, [this.latest, this.stream], entries, [
      this.group,
      this.consumer,
      ...entries.flatMap((entry) => [entry.id, entry.key]),
    ])
    return reply.map((code) => code === 1)
  }

  async deadLetter(entries: readonly QueuedWrite[], error: string, attempts: number): Promise<void> {
    const failedAt = Date.now()
    await this.perEntry(STREAM_SCRIPTS.deadLetter, [this.dead, this.stream], entries, [
      this.group,
      this.consumer,
      ...entries.flatMap((entry) => [entry.id, encodeRecord({ ...entry, failedAt, attempts, error })]),
    ])
  }

  async keepAlive(entries: readonly QueuedWrite[]): Promise<boolean[]> {
    const reply = await this.perEntry(STREAM_SCRIPTS.keepAlive, [this.stream], entries, [
      this.group,
      this.consumer,
      this.lockMs,
      ...entries.map((entry) => entry.id),
    ])
    return reply.map((code) => code === 1)
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    const records: DeadLetterRecord[] = []
    for (const raw of await this.timed(this.client.lrange(this.dead, 0, -1))) {
      const record = parseRecord(raw)
      if (record === undefined) continue
      this.rawRecords.set(record, raw)
      records.push(record)
    }
    return records
  }

  async replay(record: DeadLetterRecord): Promise<ReplayVerdict | 'gone'> {
    const raw = this.rawRecords.get(record) ?? encodeRecord(record)
    const keys = [this.dead, this.latest, this.stream]
    const args = [
      raw,
      record.key,
      record.id,
      record.payload,
      encodeTags(record.tags),
      String(record.writtenAt),
    ]
    return String(await this.timed(runScript(this.client, STREAM_SCRIPTS.replay, keys, args))) as
      | ReplayVerdict
      | 'gone'
  }

  async size(): Promise<number> {
    return this.timed(this.client.xlen(this.stream))
  }

  /** Leaves the consumer group if nothing is pending under this consumer; never closes the client. */
  async close(): Promise<void> {
    try {
      const { stream, group, consumer } = this
      const pending = (await this.timed(
        this.client.xpending(stream, group, '-', '+', 1, consumer),
      )) as unknown[]
      if (pending.length === 0) await this.timed(this.client.xgroup('DELCONSUMER', stream, group, consumer))
    } catch {
      // Best effort: a consumer left in the group only costs a few bytes.
    }
  }

  /** Runs a script over entries whose lock keys follow `fixed` in KEYS; one reply code per entry. */
  private async perEntry(
    script: (typeof STREAM_SCRIPTS)[keyof typeof STREAM_SCRIPTS],
    fixed: readonly string[],
    entries: readonly QueuedWrite[],
    args: readonly (string | number)[],
  ): Promise<number[]> {
    if (entries.length === 0) return []
    const keys = [...fixed, ...entries.map((entry) => `${this.base}:lock:${entry.key}`)]
    const reply = await this.timed(runScript(this.client, script, keys, args))
    return Array.isArray(reply) ? reply.map(Number) : []
  }

  private timed<T>(promise: Promise<T>): Promise<T> {
    const ms = this.timeoutMs
    return withTimeout(promise, ms, () => new WriteBehindError(`Redis did not answer within ${ms} ms`))
  }
}

/** A durable write-behind queue on a Redis Stream; see `RedisStreamQueue`. */
export function redisStreamQueue(options: RedisStreamQueueOptions): RedisStreamQueue {
  return new RedisStreamQueue(options)
}

function safeName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !SAFE_NAME.test(value)) {
    throw new InvalidOptionError(option, 'use 1-64 characters from A-Z a-z 0-9 . _ -')
  }
  return value
}
