import type { CacheContext } from './context.js'
import { StoreTimeoutError } from './errors.js'
import { bumpGuarded } from './store-ops.js'
import type { Guard, StoreWrite } from './stores/types.js'
import { applyPlan, mustSplit } from './tags.js'
import type { BusMessage, InvalidationBus } from './tiers/bus.js'
import { withTimeout } from './timeout.js'

/**
 * Write-through's fill, sent in the same store operation as the bump: given the new tokens,
 * the guards (each fill tag's pre-write version) and the entry to store only if every guard held.
 * Returns undefined when the fill cannot be guarded (its tags were bumped by another caller's flush).
 */
export type GuardedFill = (
  fresh: ReadonlyMap<string, string>,
) => { guards: Guard[]; entry: StoreWrite } | undefined

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
 * Applies invalidations, and remembers the ones the store refused. While any is pending this
 * process does not read from or fill the store (it goes straight to the loader), because the
 * store may still hold entries those invalidations were meant to kill. Pending work is retried
 * with backoff and on the next invalidation; once applied, the store is used again.
 */
export class Invalidator {
  private readonly pendingTags = new Set<string>()
  private readonly pendingDeletes = new Set<string>()
  private pendingEverything = false
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
   */
  async invalidate(tags: readonly string[], everything = false): Promise<Map<string, string> | undefined> {
    this.begin(tags, everything)
    for (const tag of tags) this.pendingTags.add(tag)
    if (everything) this.pendingEverything = true
    const applied = await this.flush()
    await this.publish({ tags, keys: [], everything })
    return applied
  }

  /**
   * `invalidate` with write-through's fill in the same store operation. The bump carries its own
   * tokens for exactly `tags` and is never merged with other callers' pending invalidations:
   * two writers of one row must each move the row tag with their own compare, or the older
   * row could be stored under the token that also stands for the newer write. With invalidations
   * pending (an outage), it is a plain `invalidate` and nothing is filled.
   */
  async invalidateGuarded(tags: readonly string[], fill: GuardedFill): Promise<Applied | undefined> {
    if (this.pending) {
      const tokens = await this.invalidate(tags)
      return tokens === undefined ? undefined : { tokens, filled: false }
    }
    this.begin(tags, false)
    const plan = this.ctx.tags.plan(tags)
    const { fresh } = plan
    let applied: Applied | undefined
    try {
      const guarded = fill(fresh)
      let filled = false
      const log = this.ctx.store.writeLog
      if (guarded === undefined) await applyPlan(this.ctx.store, plan)
      else if (log !== undefined && plan.logged.length > 0) {
        filled = await log.bumpGuarded(plan.unlogged, plan.logged, plan.fine, guarded.guards, guarded.entry)
      } else if (mustSplit(this.ctx.store, plan)) {
        // Coarse tokens must be visible before any fine one (TagVersions.plan); the guards are
        // on fine (row) tags, so the coarse batch goes first on its own.
        await this.ctx.store.setMany(plan.coarse)
        filled = await bumpGuarded(this.ctx.store, plan.fine, guarded.guards, guarded.entry)
      } else filled = await bumpGuarded(this.ctx.store, plan.writes, guarded.guards, guarded.entry)
      applied = { tokens: fresh, filled }
    } catch (error) {
      this.ctx.reportError(error, 'write-through')
      for (const tag of tags) this.pendingTags.add(tag)
      this.scheduleRetry()
    }
    await this.publish({ tags, keys: [], everything: false })
    return applied
  }

  /** Local effects first: once the call resolves, no reader in this process may see the old value. */
  private begin(tags: readonly string[], everything: boolean): void {
    this.ctx.localEpoch += 1
    if (everything) this.ctx.l1?.clear()
    else this.ctx.l1?.evictTags(tags)
    this.ctx.stats.add('invalidations', everything ? 1 : tags.length)
    this.ctx.events.emit('invalidate', { tags, everything })
  }

  async delete(storeKey: string): Promise<void> {
    this.ctx.localEpoch += 1
    this.ctx.l1?.delete(storeKey)
    this.pendingDeletes.add(storeKey)
    await this.flush()
    await this.publish({ tags: [], keys: [storeKey], everything: false })
  }

  /**
   * Tells other processes' L1, even when the store write failed: their L1 must not outlive it.
   * While the store answers, the mutation waits for the publish (so other processes usually drop
   * the entry before the writer moves on); during an outage it does not wait, since a dead bus
   * connection must not hold up a mutation — subscribers that lose their connection turn their
   * L1 off, and bounded mode allows lag up to maxStaleness.
   */
  private publish(message: Omit<BusMessage, 'origin'>): Promise<void> {
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
    return this.ctx.store.state === 'closed' ? sent : Promise.resolve()
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
   */
  async flush(): Promise<Map<string, string> | undefined> {
    while (this.flushing !== undefined) await this.flushing
    if (!this.pending) return new Map()
    const attempt = this.attempt()
    this.flushing = attempt
    try {
      return await attempt
    } finally {
      this.flushing = undefined
    }
  }

  close(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  private async attempt(): Promise<Map<string, string> | undefined> {
    const tags = [...this.pendingTags]
    const deletes = [...this.pendingDeletes]
    const everything = this.pendingEverything
    try {
      const tokens = await this.ctx.tags.bump(this.ctx.store, tags, everything)
      for (const key of deletes) await this.ctx.store.delete(key)
      for (const tag of tags) this.pendingTags.delete(tag)
      for (const key of deletes) this.pendingDeletes.delete(key)
      if (everything) this.pendingEverything = false
      this.retryDelay = FIRST_RETRY_MS
      return tokens
    } catch (error) {
      this.ctx.reportError(error, 'invalidate')
      this.scheduleRetry()
      return undefined
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.ctx.closed) return
    const delay = this.retryDelay
    this.retryDelay = Math.min(MAX_RETRY_MS, this.retryDelay * 2)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.flush()
    }, delay)
    this.retryTimer.unref?.()
  }
}
