import { invalidateConfirmed } from '@ormcache/core/adapter'
import pg from 'pg'
import { LogicalReplicationService, type Pgoutput } from 'pg-logical-replication'
import { PrimaryKeys } from './catalog.js'
import { CommitBatch } from './commit-batch.js'
import { describe, ReplicationError } from './errors.js'
import type {
  PostgresInvalidationEventName,
  PostgresInvalidationEvents,
  PostgresInvalidationListener,
  PostgresInvalidationStats,
} from './events.js'
import { formatLsn, parseLsn } from './lsn.js'
import { type PostgresInvalidationOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { createSlot, dropReplication, ensureReplication } from './setup.js'
import { visibleIn } from './snapshot.js'
import { TextPgoutputPlugin } from './text-pgoutput.js'
import { type RelationInfo, TransactionTags } from './transaction-tags.js'

export interface PostgresInvalidation {
  /**
   * Checks the server (typed `ReplicationError` for wal_level, privileges), creates publication
   * and slot when missing, then consumes in the background: streams while this process holds the
   * slot's lease, stands by otherwise. Resolves once setup is done.
   */
  start(): Promise<void>
  /** Stops consuming and releases the lease; the slot keeps its position for the next consumer. */
  stop(): Promise<void>
  /** `stop()`, then drops the slot and the publication, so the server no longer retains WAL. */
  teardown(): Promise<void>
  on<E extends PostgresInvalidationEventName>(event: E, listener: PostgresInvalidationListener<E>): () => void
  stats(): PostgresInvalidationStats
}

type Item = { kind: 'data'; message: Pgoutput.Message } | { kind: 'keepalive'; lsn: string; respond: boolean }

/** Standby status updates at least this often, well inside the server's wal_sender_timeout (60 s). */
const STATUS_INTERVAL_MS = 5_000
const MAX_BACKOFF_MS = 5_000

export function postgresInvalidation(options: PostgresInvalidationOptions): PostgresInvalidation {
  return new Consumer(resolveOptions(options))
}

class Consumer implements PostgresInvalidation {
  private readonly listeners = new Map<string, Set<(payload: never) => void>>()
  private control: pg.Client | undefined
  private controlBroken = false
  private locked = false
  private running = false
  private loop: Promise<void> | undefined
  private service: LogicalReplicationService | undefined
  private session = 0
  private queue: Item[] = []
  private pumping = false
  private txn: TransactionTags | undefined
  private batch = new CommitBatch()
  private commitTime = 0
  private xid = 0
  private relations = new Map<number, RelationInfo>()
  private readonly names = new Map<number, string>()
  private readonly keys = new PrimaryKeys(() => this.control!)
  private acked = 0n
  private slotSeen = false
  private wake: (() => void) | undefined
  private lagTimer: NodeJS.Timeout | undefined
  private readonly counters: Omit<PostgresInvalidationStats, 'active' | 'acknowledgedLsn'> = {
    transactions: 0,
    changes: 0,
    tagsApplied: 0,
    namespaceInvalidations: 0,
    collapsedTables: 0,
    errors: 0,
    reconnects: 0,
    lagBytes: 0,
    lagMs: 0,
    invisibleCommits: 0,
  }

  constructor(private readonly options: ResolvedOptions) {}

  async start(): Promise<void> {
    if (this.running) return
    const client = await this.connect()
    try {
      await ensureReplication(client, this.options)
      // From here on, a missing slot means it was dropped under us (see stream()).
      this.slotSeen = true
    } catch (error) {
      await client.end().catch(() => {})
      this.control = undefined
      throw error
    }
    this.running = true
    this.lagTimer = setInterval(() => void this.measureLag(), this.options.pollInterval)
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    clearInterval(this.lagTimer)
    this.wake?.()
    // The stream may be between connecting and starting; keep ending it until the loop is out.
    let finished = false
    void this.loop?.finally(() => {
      finished = true
    })
    while (!finished) {
      await this.service?.stop().catch(() => {})
      await Promise.race([this.loop, new Promise((r) => setTimeout(r, 100))])
    }
    await this.control?.end().catch(() => {})
    this.control = undefined
    this.locked = false
  }

  async teardown(): Promise<void> {
    await this.stop()
    const client = new pg.Client({ connectionString: this.options.connectionString })
    await client.connect()
    try {
      await dropReplication(client, this.options.slot, this.options.publication)
    } finally {
      await client.end()
    }
  }

  on<E extends PostgresInvalidationEventName>(
    event: E,
    listener: PostgresInvalidationListener<E>,
  ): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener as (payload: never) => void)
    return () => set.delete(listener as (payload: never) => void)
  }

  stats(): PostgresInvalidationStats {
    return { ...this.counters, active: this.locked && this.running, acknowledgedLsn: formatLsn(this.acked) }
  }

  private emit<E extends PostgresInvalidationEventName>(
    event: E,
    payload: PostgresInvalidationEvents[E],
  ): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        ;(listener as PostgresInvalidationListener<E>)(payload)
      } catch {
        // A listener's fault must not stop the stream.
      }
    }
  }

  private fail(error: ReplicationError): void {
    this.counters.errors += 1
    this.emit('error', error)
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.options.connectionString })
    client.on('error', () => {
      // The lease dies with this connection: stop streaming so a standby can take over.
      this.controlBroken = true
      this.locked = false
      void this.service?.stop().catch(() => {})
    })
    try {
      await client.connect()
    } catch (error) {
      throw new ReplicationError('connection', `cannot connect to PostgreSQL: ${describe(error)}`, {
        cause: error,
      })
    }
    this.control = client
    this.controlBroken = false
    return client
  }

  /** Lease, stream, and on any failure back off and resume from the slot's acknowledged position. */
  private async run(): Promise<void> {
    let backoff = 100
    let standby = false
    while (this.running) {
      try {
        if (this.control === undefined || this.controlBroken) {
          await this.control?.end().catch(() => {})
          this.control = undefined
          this.locked = false
          await this.connect()
        }
        if (!this.locked) this.locked = await this.tryLock()
        if (!this.locked) {
          if (!standby) this.emit('standby', { slot: this.options.slot })
          standby = true
          await this.sleep(this.options.pollInterval)
          continue
        }
        standby = false
        await this.stream()
        backoff = 100
      } catch (error) {
        if (!this.running) break
        this.fail(
          error instanceof ReplicationError
            ? error
            : new ReplicationError('connection', `change stream failed: ${describe(error)}`, {
                cause: error,
              }),
        )
        this.counters.reconnects += 1
        await this.sleep(backoff)
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)
      }
    }
  }

  private async tryLock(): Promise<boolean> {
    const { rows } = await this.control!.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [`ormcache.postgres:${this.options.slot}`],
    )
    return rows[0]?.locked === true
  }

  private async stream(): Promise<void> {
    if (await createSlot(this.control!, this.options.slot)) {
      if (this.slotSeen) await this.slotLost()
    }
    this.slotSeen = true
    const session = ++this.session
    // A previous stream's processing failure left its transaction unacknowledged: this stream replays it.
    this.processingError = undefined
    this.queue = []
    this.txn = undefined
    this.batch = new CommitBatch()
    this.relations = new Map()
    const service = new LogicalReplicationService(
      { connectionString: this.options.connectionString },
      // Acknowledgement is ours alone: the library's periodic status update reports the last
      // received position, which would acknowledge transactions not yet invalidated.
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    )
    this.service = service
    service.on('error', () => {})
    service.on('start', () => {
      // stop() may have run while the library was still connecting: it cannot have ended this stream.
      if (!this.running || session !== this.session) void service.stop().catch(() => {})
      else this.emit('active', { slot: this.options.slot })
    })
    service.on('data', (_lsn: string, message: Pgoutput.Message) =>
      this.enqueue(session, { kind: 'data', message }),
    )
    service.on('heartbeat', (lsn: string, _time: number, respond: boolean) =>
      this.enqueue(session, { kind: 'keepalive', lsn, respond }),
    )
    const status = setInterval(() => this.acknowledge(), STATUS_INTERVAL_MS)
    const plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: [this.options.publication] })
    let failure: unknown
    try {
      await service.subscribe(plugin, this.options.slot)
    } catch (error) {
      failure = error
    } finally {
      clearInterval(status)
      this.session += 1
      this.service = undefined
      await service.stop().catch(() => {})
    }
    if (this.processingError !== undefined) {
      const error = this.processingError
      this.processingError = undefined
      throw error
    }
    if (failure !== undefined && this.running) throw this.classify(failure)
    if (this.running && this.controlBroken)
      throw new ReplicationError('connection', 'lost the lease connection')
  }

  private processingError: ReplicationError | undefined

  private classify(error: unknown): ReplicationError {
    const code = (error as { code?: string }).code
    if (code === '55006')
      return new ReplicationError(
        'slot_in_use',
        `slot "${this.options.slot}" is streamed by another consumer (not one holding this package's lease)`,
        { cause: error },
      )
    if (code === '42704')
      return new ReplicationError('slot_lost', `slot "${this.options.slot}" was dropped`, { cause: error })
    return new ReplicationError('connection', `change stream failed: ${describe(error)}`, { cause: error })
  }

  /** Changes between the old slot's position and the new slot's are unknown: everything may be stale. */
  private async slotLost(): Promise<void> {
    this.fail(
      new ReplicationError(
        'slot_lost',
        `slot "${this.options.slot}" was dropped under the consumer; recreated it and invalidated the namespace`,
      ),
    )
    this.counters.namespaceInvalidations += 1
    this.acked = 0n
    if (!(await invalidateConfirmed(this.options.cache, [], true)))
      throw new ReplicationError(
        'store',
        'the namespace invalidation after a lost slot did not reach the store',
      )
  }

  private enqueue(session: number, item: Item): void {
    if (session !== this.session) return
    this.queue.push(item)
    void this.pump(session)
  }

  private async pump(session: number): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    try {
      while (session === this.session) {
        const item = this.queue.shift()
        if (item !== undefined) await this.handle(item)
        if (session !== this.session) break
        // Commits wait while more of the stream has already arrived: under a backlog one check and
        // one store write cover many transactions (commit-batch.ts); with nothing queued, at once.
        if (!this.batch.empty && (this.queue.length === 0 || this.batch.full())) await this.flush()
        else if (item === undefined) break
      }
    } catch (error) {
      // Nothing after the failed transaction is acknowledged: restart from the slot and replay.
      this.processingError =
        error instanceof ReplicationError
          ? error
          : new ReplicationError('connection', `cannot process the change stream: ${describe(error)}`, {
              cause: error,
            })
      this.queue = []
      this.batch = new CommitBatch()
      await this.service?.stop().catch(() => {})
    } finally {
      this.pumping = false
    }
  }

  private async handle(item: Item): Promise<void> {
    if (item.kind === 'keepalive') {
      // Everything sent before this keepalive was processed (the queue is in stream order); with
      // no transaction open, no change before the server's position is left to invalidate once
      // the commits still batched are applied.
      if (this.txn === undefined) {
        if (this.batch.empty) this.advance(parseLsn(item.lsn))
        else this.batch.reach(parseLsn(item.lsn))
      }
      if (item.respond) {
        if (!this.batch.empty) await this.flush()
        this.acknowledge()
      }
      return
    }
    const message = item.message
    switch (message.tag) {
      case 'begin':
        this.txn = new TransactionTags(this.options.maxRowsPerTable)
        // Microseconds since the Unix epoch (typed as the BigInt wrapper by the library).
        this.commitTime = Number((message.commitTime as unknown as bigint) / 1000n)
        this.xid = message.xid
        return
      case 'relation':
        return this.relation(message)
      case 'insert':
        return void this.change(message.relation, (txn, rel) => txn.insert(rel, message.new))
      case 'update':
        return void this.change(message.relation, (txn, rel) =>
          txn.update(rel, message.key, message.old, message.new),
        )
      case 'delete':
        return void this.change(message.relation, (txn, rel) => txn.delete(rel, message.key, message.old))
      case 'truncate':
        for (const relation of message.relations) this.change(relation, (txn, rel) => txn.truncate(rel))
        return
      case 'commit':
        return this.commit(message)
      default:
        return
    }
  }

  private async relation(message: Pgoutput.MessageRelation): Promise<void> {
    const name = `${message.schema}.${message.name}`
    const before = this.names.get(message.relationOid)
    // A renamed table (or one moved to another schema): entries cached under the old name cannot
    // be named from here, so the namespace goes.
    if (before !== undefined && before !== name && this.txn !== undefined) this.txn.everything = true
    this.names.set(message.relationOid, name)
    this.keys.forget(message.relationOid)
    this.relations.set(message.relationOid, {
      oid: message.relationOid,
      schema: message.schema,
      name: message.name,
      columns: new Map(message.columns.map((c) => [c.name, c.typeOid])),
      primaryKey: await this.keys.of(message.relationOid),
      identity: message.replicaIdentity,
    })
  }

  private change(
    relation: Pgoutput.MessageRelation | undefined,
    apply: (txn: TransactionTags, relation: RelationInfo) => void,
  ): void {
    if (this.txn === undefined) this.txn = new TransactionTags(this.options.maxRowsPerTable)
    const txn = this.txn
    const info = relation === undefined ? undefined : this.relations.get(relation.relationOid)
    if (info === undefined) {
      txn.everything = true
      txn.changes += 1
      return
    }
    apply(txn, info)
  }

  private commit(message: Pgoutput.MessageCommit): void {
    const txn = this.txn ?? new TransactionTags(this.options.maxRowsPerTable)
    this.txn = undefined
    const lsn = message.commitEndLsn ?? message.commitLsn
    this.batch.add({
      xid: this.xid,
      lsn: lsn === null ? undefined : parseLsn(lsn),
      commitTime: this.commitTime,
      txn,
      tags: txn.tags(),
    })
  }

  /** Applies the batched commits: visible, bumped in the store, then acknowledged. */
  private async flush(): Promise<void> {
    const batch = this.batch
    this.batch = new CommitBatch()
    const tags = batch.tags()
    const bumps = tags.length > 0 || batch.everything
    if (bumps) await this.visible(batch.xids())
    if (bumps && !(await invalidateConfirmed(this.options.cache, tags, batch.everything)))
      throw new ReplicationError(
        'store',
        'an invalidation did not reach the cache store; replaying from the slot',
      )
    const now = Date.now()
    for (const { txn, tags } of batch.commits) {
      this.counters.transactions += 1
      this.counters.changes += txn.changes
      this.counters.tagsApplied += tags.length
      this.counters.collapsedTables += txn.collapsedTables()
      if (txn.everything) this.counters.namespaceInvalidations += 1
    }
    const last = batch.commits[batch.commits.length - 1]!
    this.counters.lagMs = Math.max(0, now - last.commitTime)
    this.advance(batch.end)
    this.acknowledge()
    for (const { txn, tags, lsn, commitTime } of batch.commits) {
      this.emit('applied', {
        lsn: formatLsn(lsn ?? this.acked),
        changes: txn.changes,
        tags: tags.length,
        everything: txn.everything,
        collapsedTables: txn.collapsedTables(),
        lagMs: Math.max(0, now - commitTime),
      })
    }
  }

  /**
   * Waits until transactions `xids` are visible to new snapshots. PostgreSQL flushes a commit record
   * (so a walsender may decode and send it) before the committing backend leaves the proc array;
   * until it does, other sessions still read the old rows. A bump in that window lets a reader
   * snapshot the new version, load the old row and store it as current, after which nothing
   * invalidates it. A snapshot taken now that lists none of them as running proves every later
   * reader's snapshot sees their commits. Usually one query for the whole batch; a backend held
   * between the two (CPU contention, a synchronous standby) is waited for, and the stream waits
   * with it.
   */
  private async visible(xids: readonly number[]): Promise<void> {
    let delay = 1
    let waiting = xids
    const counted = new Set<number>()
    for (;;) {
      const { rows } = await this.control!.query<{ snapshot: string }>(
        'SELECT pg_current_snapshot()::text AS snapshot',
      )
      const snapshot = rows[0]!.snapshot
      waiting = waiting.filter((xid) => !visibleIn(snapshot, xid))
      if (waiting.length === 0) return
      for (const xid of waiting) {
        if (!counted.has(xid)) this.counters.invisibleCommits += 1
        counted.add(xid)
      }
      // Stopping: the transaction is not acknowledged, so the next consumer replays it.
      if (!this.running)
        throw new ReplicationError('connection', 'stopped while a commit was not yet visible')
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 50)
    }
  }

  private advance(lsn: bigint): void {
    if (lsn > this.acked) this.acked = lsn
  }

  /**
   * Reports the acknowledged position as flushed. The library adds one to the position it is
   * given; PostgreSQL expects the commit's end position itself (the next transaction's commit
   * record may start exactly there), so it gets one less.
   */
  private acknowledge(): void {
    if (this.acked > 0n) void this.service?.acknowledge(formatLsn(this.acked - 1n)).catch(() => {})
  }

  private async measureLag(): Promise<void> {
    const client = this.control
    if (client === undefined || this.controlBroken) return
    try {
      const { rows } = await client.query<{ bytes: string | null }>(
        'SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS bytes FROM pg_replication_slots WHERE slot_name = $1',
        [this.options.slot],
      )
      const bytes = Number(rows[0]?.bytes ?? 0)
      this.counters.lagBytes = bytes
      const lagging = bytes > this.options.maxLagBytes
      if (lagging) this.emit('lag', { slot: this.options.slot, bytes, limit: this.options.maxLagBytes })
    } catch {
      // The run loop reports connection faults.
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
  }
}
