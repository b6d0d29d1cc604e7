import type { CacheContext } from '../cache-context.js'
import { StoreTimeoutError } from '../errors.js'
import { expectStoredHit } from '../read-path/hit-hints.js'
import { type Budget, outOfBudget, waitWithinBudget } from '../store/budget.js'
import { bumpGuarded } from '../store/store-ops.js'
import { withTimeout } from '../store/timeout.js'
import type { Guard, StoreWrite } from '../store/types.js'
import type { BusMessage, InvalidationBus } from '../tiers/bus.js'
import { applyPlan, mustSplit } from './versions.js'

const noop = () => {}

/**
 * Write-through's fill, sent in the same store operation as the bump: given the new tokens,
 * the guards (each fill tag's pre-write version) and the entry to store only if every guard held.
 * Returns undefined when the fill cannot be guarded (its tags were bumped by another caller's flush).
 */
export type GuardedFill = (
  fresh: ReadonlyMap<string, string>,
) => { guards: Guard[]; entry: StoreWrite } | undefined

export interface UndeliveredInvalidations {
  tags: string[]
  keys: number
  everything: boolean
}

export interface Applied {
  tokens: Map<string, string>
  /** The guarded fill was stored. */
  filled: boolean
}

const PUBLISH_TIMEOUT_MS = 1_000
/** Publishes in flight before new ones are dropped (and reported): a dead bus must not pile up work. */
const MAX_PUBLISHING = 1_000
const FIRST_RETRY_MS = 50
/** Kept below the default recoveryGrace, so replays land before other processes trust the store again. */
const MAX_RETRY_MS = 800
/**
 * Pending tags and deletes past which they collapse into one namespace-wide invalidation (an
 * epoch move): memory stays bounded however long the outage, and the replay is one write.
 */
export const MAX_PENDING = 1_000
/** How long `close()` keeps retrying pending invalidations before it reports them undelivered. */
export const CLOSE_DEADLINE_MS = 1_000
const CLOSE_RETRY_MS = 50

/**
 * Applies invalidations, and remembers the ones the store refused. While any is pending this
 * process does not read from or fill the store (it goes straight to the loader), because the
 * store may still hold entries those invalidations were meant to kill. Pending work is retried
 * with backoff and on the next invalidation; once applied, the store is used again.
 */
export class Invalidator {
  /**
   * Pending tags and deletes, each with the sequence number of its latest recording: an attempt
   * clears only what was not recorded again while it ran, since a write that committed after the
   * attempt's bump reached the store needs a bump of its own.
   */
  private readonly pendingTags = new Map<string, number>()
  private readonly pendingDeletes = new Map<string, number>()
  private sequence = 0
  private pendingEverything = false
  /**
   * The last attempt failed and its retry is scheduled: until one succeeds, new invalidations are
   * only recorded, and a read replays only after a one-key probe finds the store answering, so
   * each call costs O(its own tags) instead of re-sending the whole pending set.
   */
  private failing = false
  private retryTimer: NodeJS.Timeout | undefined
  private retryDelay = FIRST_RETRY_MS
  private flushing: Promise<Map<string, string> | undefined> | undefined

  constructor(private readonly ctx: CacheContext) {}

  /** True while some invalidation has not reached the store. */
  get pending(): boolean {
    return this.pendingEverything || this.pendingTags.size > 0 || this.pendingDeletes.size > 0
  }

  /**
   * Bumps `tags` (and the namespace epoch when `everything`). Resolves once the store has
   * applied it, or once it is recorded as pending after a store fault (reported as an error).
   * Returns the new tokens when applied, so write-through can fill under exactly these versions.
   * `budget`: the calling operation's store budget (budget.ts), undefined for none.
   */
  invalidate(
    tags: readonly string[],
    everything: boolean,
    budget: Budget | undefined,
  ): Promise<Map<string, string> | undefined> {
    const tracer = this.ctx.tracer
    if (tracer === undefined) return this.apply(tags, everything, budget)
    const start = { kind: 'invalidate', tagCount: tags.length, everything } as const
    return tracer.invalidate(start, () => this.apply(tags, everything, budget))
  }

  private async apply(
    tags: readonly string[],
    everything: boolean,
    budget: Budget | undefined,
  ): Promise<Map<string, string> | undefined> {
    this.begin(tags, everything)
    this.record(tags, undefined, everything)
    const applied = this.failing ? undefined : await this.flush(budget)
    await this.publish({ tags, keys: [], everything }, budget)
    return applied
  }

  /**
   * True when nothing is pending, after applying what is if the store is believed to answer.
   * During an outage (the last attempt failed) it answers at once, without a store call.
   */
  async settle(budget: Budget | undefined): Promise<boolean> {
    if (!this.pending) return true
    if (this.failing && !(await this.probe(budget))) return false
    return (await this.flush(budget)) !== undefined && !this.pending
  }

  private probing: Promise<boolean> | undefined

  /**
   * One small read (shared by concurrent callers) that says whether the store answers again,
   * so a read during an outage costs O(1) instead of a replay of every pending tag.
   */
  private probe(budget: Budget | undefined): Promise<boolean> {
    // Shared: the budget of the caller that sends it bounds it, as the first caller's would.
    this.probing ??= this.ctx.store.get(this.ctx.keys.globalKey, budget).then(
      () => true,
      () => false,
    )
    const probing = this.probing
    void probing.finally(() => {
      if (this.probing === probing) this.probing = undefined
    })
    return probing
  }

  /** Pending work, at O(1) per tag; past MAX_PENDING it collapses into a namespace-wide move. */
  private record(tags: readonly string[], key: string | undefined, everything: boolean): void {
    if (everything) {
      this.collapse()
      return
    }
    if (this.pendingEverything) {
      // Covered by the pending move, unless that move is already in flight and lands before
      // this write's commit: then another move is needed (attempt() compares the generation).
      this.everythingGeneration += 1
      return
    }
    const recorded = ++this.sequence
    for (const tag of tags) this.pendingTags.set(tag, recorded)
    if (key !== undefined) this.pendingDeletes.set(key, recorded)
    if (this.pendingTags.size + this.pendingDeletes.size > MAX_PENDING) this.collapse()
  }

  /** Moving the epoch kills every entry, so the tags and deletes it covers need not be kept. */
  private collapse(): void {
    this.pendingEverything = true
    this.everythingGeneration += 1
    this.pendingTags.clear()
    this.pendingDeletes.clear()
  }

  private everythingGeneration = 0

  /**
   * `invalidate` with write-through's fill in the same store operation. The bump carries its own
   * tokens for exactly `tags` and is never merged with other callers' pending invalidations:
   * two writers of one row must each move the row tag with their own compare, or the older
   * row could be stored under the token that also stands for the newer write. With invalidations
   * pending (an outage), it is a plain `invalidate` and nothing is filled.
   */
  invalidateGuarded(
    tags: readonly string[],
    fill: GuardedFill,
    budget: Budget | undefined,
  ): Promise<Applied | undefined> {
    const tracer = this.ctx.tracer
    if (tracer === undefined) return this.applyGuarded(tags, fill, budget)
    const start = { kind: 'write-through', tagCount: tags.length, everything: false } as const
    return tracer.invalidate(start, () => this.applyGuarded(tags, fill, budget))
  }

  private async applyGuarded(
    tags: readonly string[],
    fill: GuardedFill,
    budget: Budget | undefined,
  ): Promise<Applied | undefined> {
    if (this.pending) {
      const tokens = await this.apply(tags, false, budget)
      return tokens === undefined ? undefined : { tokens, filled: false }
    }
    const store = this.ctx.store.within(budget)
    this.begin(tags, false)
    const since = this.ctx.hitHints.now()
    const plan = this.ctx.tags.plan(tags)
    const { fresh } = plan
    let applied: Applied | undefined
    try {
      const guarded = fill(fresh)
      let filled = false
      const log = store.writeLog
      if (guarded === undefined) await applyPlan(store, plan)
      else if (log !== undefined && plan.logged.length > 0) {
        filled = await log.bumpGuarded(plan.unlogged, plan.logged, plan.fine, guarded.guards, guarded.entry)
      } else if (mustSplit(store, plan)) {
        // Coarse tokens must be visible before any fine one (TagVersions.plan); the guards are
        // on fine (row) tags, so the coarse batch goes first on its own.
        await store.setMany(plan.coarse)
        filled = await bumpGuarded(store, plan.fine, guarded.guards, guarded.entry)
      } else filled = await bumpGuarded(store, plan.writes, guarded.guards, guarded.entry)
      applied = { tokens: fresh, filled }
      // Stored under the asked tags with the new tokens: its next read may take the plain read.
      if (filled && guarded !== undefined) expectStoredHit(this.ctx, guarded.entry.key, undefined, since)
    } catch (error) {
      this.ctx.reportError(error, 'write-through')
      this.record(tags, undefined, false)
      this.failing = true
      this.scheduleRetry()
    }
    await this.publish({ tags, keys: [], everything: false }, budget)
    return applied
  }

  /** Local effects first: once the call resolves, no reader in this process may see the old value. */
  private begin(tags: readonly string[], everything: boolean): void {
    this.ctx.forgetLocally(tags, everything)
    this.ctx.stats.add('invalidations', everything ? 1 : tags.length)
    this.ctx.events.emit('invalidate', { tags, everything })
  }

  async delete(storeKey: string, budget: Budget | undefined): Promise<void> {
    this.ctx.localEpoch += 1
    this.ctx.hitHints.missed(storeKey)
    this.ctx.l1?.delete(storeKey)
    this.record([], storeKey, false)
    if (!this.failing) await this.flush(budget)
    await this.publish({ tags: [], keys: [storeKey], everything: false }, budget)
  }

  /**
   * Tells other processes' L1, even when the store write failed: their L1 must not outlive it.
   * While the store answers, the mutation waits for the publish (so other processes usually drop
   * the entry before the writer moves on); during an outage it does not wait, since a dead bus
   * connection must not hold up a mutation — subscribers that lose their connection turn their
   * L1 off, and bounded mode allows lag up to maxStaleness.
   */
  private publish(message: Omit<BusMessage, 'origin'>, budget: Budget | undefined): Promise<void> {
    const bus = this.ctx.bus
    if (bus === undefined) return Promise.resolve()
    if (this.publishing >= MAX_PUBLISHING) {
      this.ctx.reportError(new StoreTimeoutError('publish', this.publishLimit()), 'publish')
      return Promise.resolve()
    }
    this.publishing += 1
    const sent = this.send(bus, message).finally(() => {
      this.publishing -= 1
    })
    // Waiting for it counts against the operation's store budget (the publish itself goes on).
    return this.ctx.store.state === 'closed' ? waitWithinBudget(sent, budget) : Promise.resolve()
  }

  private publishing = 0

  private publishLimit(): number {
    return this.ctx.options.writeTimeoutMs > 0 ? this.ctx.options.writeTimeoutMs : PUBLISH_TIMEOUT_MS
  }

  private async send(bus: InvalidationBus, message: Omit<BusMessage, 'origin'>): Promise<void> {
    const limit = this.publishLimit()
    try {
      await withTimeout(bus.publish({ origin: this.ctx.origin, ...message }), limit, () => {
        return new StoreTimeoutError('publish', limit)
      })
    } catch (error) {
      this.ctx.reportError(error, 'publish')
    }
  }

  /**
   * Applies everything pending; one attempt runs at a time. Resolves to the tokens written by
   * the attempt that ran for this caller (empty if nothing was pending), or undefined on failure.
   * `budget`: the calling operation's (none for retries, recovery and close).
   */
  async flush(budget?: Budget): Promise<Map<string, string> | undefined> {
    while (this.flushing !== undefined) {
      // Another attempt (maybe a background retry against a hung store) is running: waiting for
      // it counts against this operation's budget. Out of budget, this caller's invalidations stay
      // pending — not lost — and a retry is scheduled to deliver them.
      const other = this.flushing
      await waitWithinBudget(other.then(noop, noop), budget)
      if (this.flushing === other && outOfBudget(budget)) {
        this.scheduleRetry()
        return undefined
      }
    }
    if (!this.pending) return new Map()
    const attempt = this.attempt(budget)
    this.flushing = attempt
    try {
      return await attempt
    } finally {
      this.flushing = undefined
    }
  }

  /**
   * For `close()`: keeps applying pending work until it is delivered or `deadlineMs` passes
   * (each attempt bounded too, so a store that never answers cannot hold close() up), stops the
   * retries, and returns what could not be delivered, or undefined if everything was.
   */
  async drain(deadlineMs: number): Promise<UndeliveredInvalidations | undefined> {
    const deadline = performance.now() + deadlineMs
    while (this.pending) {
      const left = deadline - performance.now()
      if (left <= 0) break
      const outcome = await withTimeout(
        this.flush(),
        left,
        () => new StoreTimeoutError('close', deadlineMs),
      ).catch(() => undefined)
      if (outcome !== undefined || !this.pending) continue
      await new Promise((resolve) => setTimeout(resolve, Math.min(CLOSE_RETRY_MS, Math.max(1, left))))
    }
    this.close()
    if (!this.pending) return undefined
    return {
      tags: [...this.pendingTags.keys()],
      keys: this.pendingDeletes.size,
      everything: this.pendingEverything,
    }
  }

  close(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  /** Tags bumped by attempts so far: the work replays cost, exposed for tests and benches. */
  get replayedTags(): number {
    return this.replayed
  }

  private replayed = 0

  /** One attempt, its store calls bounded by the budget of the caller that started it. */
  private async attempt(budget: Budget | undefined): Promise<Map<string, string> | undefined> {
    const store = this.ctx.store.within(budget)
    const everything = this.pendingEverything
    const generation = this.everythingGeneration
    // An epoch move kills every entry: the tags it covers need no bump of their own.
    const tagEntries = everything ? [] : [...this.pendingTags]
    const deleteEntries = everything ? [] : [...this.pendingDeletes]
    const tags = tagEntries.map(([tag]) => tag)
    const deletes = deleteEntries.map(([key]) => key)
    try {
      this.replayed += tags.length
      const tokens = await this.ctx.tags.bump(store, tags, everything)
      for (const key of deletes) await store.delete(key)
      for (const [tag, recorded] of tagEntries)
        if (this.pendingTags.get(tag) === recorded) this.pendingTags.delete(tag)
      for (const [key, recorded] of deleteEntries)
        if (this.pendingDeletes.get(key) === recorded) this.pendingDeletes.delete(key)
      // Work recorded while the move was in flight may have committed after it landed.
      if (everything && generation === this.everythingGeneration) this.pendingEverything = false
      this.failing = false
      this.retryDelay = FIRST_RETRY_MS
      return tokens
    } catch (error) {
      this.ctx.reportError(error, 'invalidate')
      this.failing = true
      this.scheduleRetry()
      return undefined
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.ctx.closed) return
    const delay = this.retryDelay
    this.retryDelay = Math.min(MAX_RETRY_MS, this.retryDelay * 2)
    // No budget: the retry is no user operation's (the one that failed may have spent its own).
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.flush()
    }, delay)
    this.retryTimer.unref?.()
  }
}
