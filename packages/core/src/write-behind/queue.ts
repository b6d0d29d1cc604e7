/**
 * The durable side of write-behind. A queue holds encoded writes until a flusher has applied
 * them to the database, and it is the single place that decides which write to a key is the
 * latest: every `enqueue` records its id as the key's latest, atomically with the append. A
 * flusher applies an entry only while it is still the latest, so coalescing is last-writer-wins
 * across processes, retries and crash recovery, and an old entry never overwrites a newer one.
 */
export interface QueuedWrite {
  /** Queue-assigned, unique; later writes to the queue get later ids. */
  id: string
  key: string
  /** The value, encoded by the writer (see write-behind/payload.ts). */
  payload: string
  /** Tags to invalidate once this write is in the database. */
  tags: readonly string[]
  /** Epoch ms when `write()` was called, passed to `flush` for optional fencing in the database. */
  writtenAt: number
}

/**
 * ok: latest for its key and now locked by this consumer; flush it.
 * stale: a newer write to the key exists (or this one was already applied); the queue has
 * dropped it.
 * busy: latest, but another consumer is flushing this key right now; try again on a later pass.
 */
export type LockVerdict = 'ok' | 'stale' | 'busy'

export interface DeadLetterRecord extends QueuedWrite {
  failedAt: number
  attempts: number
  error: string
}

export type ReplayVerdict = 'replayed' | 'superseded'

/**
 * What a queue can say about surviving a crash of its server. `aof`: the server appends every
 * write to its log (Redis `appendonly yes`). `none`: it does not, so acknowledged writes since
 * the last snapshot are lost when it dies. `unknown`: the server would not say (e.g. `CONFIG`
 * is not permitted on a managed Redis).
 */
export interface QueueDurability {
  /** What the server said about its write log. */
  persistence: 'aof' | 'none' | 'unknown'
  /** One sentence for a log line: what was found and what to change. */
  detail: string
}

/** The cache a writer binds a queue to; a queue keys its storage by the cache's namespace. */
export interface QueueOwner {
  /** The cache's namespace; a shared queue keeps its keys under it. */
  namespace: string
}

export interface WriteBehindQueue {
  /** "memory" or "redis-stream". */
  readonly kind: string
  /** Whether acknowledged writes survive the crash of the process that wrote them. */
  readonly durable: boolean
  /** How often `keepAlive` must run while entries are in flight; undefined: never. */
  readonly keepAliveMs: number | undefined
  /**
   * Binds the queue to one writer of the cache `owner`; a second writer gets a
   * `WriteBehindError`. A shared queue keys its storage by `owner.namespace`, so two tenants
   * never read each other's writes.
   */
  attach(owner?: QueueOwner): void
  /** Asks the server whether acknowledged writes survive its crash; absent for in-process queues. */
  durability?(): Promise<QueueDurability>
  /** Creates what the queue needs (consumer group, …); safe to call repeatedly. */
  open(): Promise<void>
  /** Appends a write and makes it the latest for its key; resolves with its id once durable. */
  enqueue(write: Omit<QueuedWrite, 'id'>): Promise<string>
  /**
   * One pass over everything this consumer may flush, in chunks of at most `max`: its own
   * unfinished entries, then entries abandoned by crashed consumers, then new ones. Entries
   * yielded stay owned by this consumer until `complete` or `deadLetter`.
   */
  pass(max: number): AsyncIterable<QueuedWrite[]>
  /** Checks that each entry is still the latest for its key and locks the key (re-entrant). */
  lock(entries: readonly QueuedWrite[]): Promise<LockVerdict[]>
  /**
   * After a successful flush: removes the entries and releases their locks. `true` where the
   * entry was still its key's latest write, i.e. no newer write is waiting.
   */
  complete(entries: readonly QueuedWrite[]): Promise<boolean[]>
  /** Moves failed entries to the dead-letter list; they stay their keys' latest writes. */
  deadLetter(entries: readonly QueuedWrite[], error: string, attempts: number): Promise<void>
  /** Extends this consumer's ownership of in-flight entries; `false` where it was lost. */
  keepAlive(entries: readonly QueuedWrite[]): Promise<boolean[]>
  deadLetters(): Promise<DeadLetterRecord[]>
  /** Re-queues a dead letter if no newer write to its key exists since; removes it either way. */
  replay(record: DeadLetterRecord): Promise<ReplayVerdict | 'gone'>
  /** Writes queued and not yet applied or dead-lettered (by any consumer). */
  size(): Promise<number>
  close(): Promise<void>
}
