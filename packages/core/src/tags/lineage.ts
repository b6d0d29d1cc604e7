import type { CacheContext } from '../cache-context.js'
import { StoreResetError } from '../errors.js'
import { newToken } from './versions.js'

/**
 * Makes a store that lost writes (restarted from a snapshot, a replica promoted before it caught
 * up) unable to serve anything written before the loss. The namespace epoch is stamped with the
 * id of the data set it was written on (`CacheStore.lineage`, the Redis run id): `<token>@<id>`.
 * An entry is served only if its epoch equals the current one AND the current one carries the id
 * of the server that answered. A restored or promoted server still holds the old epoch, stamped
 * with the old server's id, so the first lookup that sees it moves the epoch (compare-and-set,
 * once per fleet) before anything is served; every older entry then names a dead epoch.
 * Why this is sound is in docs/design.md ("Stores that lose writes").
 */
const MAX_WAIT_MS = 1_000

export class EpochLineage {
  private readonly repairs = new Map<string, Promise<string | undefined>>()

  constructor(private readonly ctx: CacheContext) {}

  /**
   * A store that checks lineage per shard (Redis Cluster) has already replaced what a shard
   * rolled back when it tells us; what is left here is what a move does besides: loads in flight
   * must not put pre-loss values into L1, L1 may hold them already, and the loss is reported.
   * Subscribed lazily (the context is not built yet when this is); returns the unsubscribe.
   */
  watchResets(): () => void {
    const ctx = this.ctx
    const store = ctx.options.store
    if (store.onReset === undefined) return () => {}
    return store.onReset((namespace) => {
      if (namespace !== ctx.keys.namespace) return
      ctx.forgetLocally([], true)
      ctx.reportError(new StoreResetError(namespace), 'lineage')
    })
  }

  /** The connected data set's id; null when the store has no lineage (nothing to check). */
  private id(): string | undefined | null {
    const store = this.ctx.options.store
    return store.lineage === undefined ? null : store.lineage()
  }

  /**
   * Waits (when it returns a promise) until the connected data set is known, at most `readTimeoutMs` (a store that is down
   * fails the lookup that follows anyway). Only a cold or re-established connection waits: a
   * lookup sent before the id is known would create an unstamped epoch that the next lookup must
   * move, and its reply would be judged untrusted, so every reader of a cold start would load
   * from the database without the lease (seen as extra loads in the multi-process stampede).
   */
  ready(): Promise<void> | undefined {
    const store = this.ctx.options.store
    if (store.lineage === undefined || store.lineageKnown === undefined || store.lineage() !== undefined)
      return
    // A connection known to be down fails the lookup at once with its cause: nothing to wait for.
    if (store.unavailable?.() !== undefined) return
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>((resolve) => {
      // Past this the lookup goes ahead; its reply is judged untrusted and the read bypasses.
      timer = setTimeout(resolve, Math.min(this.ctx.options.readTimeoutMs || MAX_WAIT_MS, MAX_WAIT_MS))
      timer.unref()
    })
    return Promise.race([store.lineageKnown(), waited]).then(() => clearTimeout(timer))
  }

  /** A new version token, stamped with the data set it is about to be written on when known. */
  token(): string {
    const id = this.id()
    return typeof id === 'string' ? `${newToken()}@${id}` : newToken()
  }

  /** True if an entry under `epoch` may be served by the data set connected now. */
  trusted(epoch: string | undefined): boolean {
    const id = this.id()
    if (id === null) return true
    return id !== undefined && epoch !== undefined && stampOf(epoch) === id
  }

  /**
   * The epoch to judge and snapshot under: `epoch` itself when trusted, a new one when it was
   * written on another data set (moved here), or undefined when nothing can be trusted right now
   * (the connection's server is not known yet, or the move failed): the caller bypasses the store.
   */
  async verify(epoch: string): Promise<string | undefined> {
    const id = this.id()
    if (id === null) return epoch
    if (id === undefined) return undefined
    if (stampOf(epoch) === id) return epoch
    let repair = this.repairs.get(epoch)
    if (repair === undefined) {
      repair = this.move(epoch, id).finally(() => this.repairs.delete(epoch))
      this.repairs.set(epoch, repair)
    }
    return repair
  }

  private async move(seen: string, id: string): Promise<string | undefined> {
    const ctx = this.ctx
    const fresh = `${newToken()}@${id}`
    try {
      if (await ctx.store.compareAndSet(ctx.keys.globalKey, seen, fresh)) {
        // In-flight loads must not put pre-move values into L1, and L1 may hold them already.
        ctx.forgetLocally([], true)
        // An unstamped epoch was only just created (or predates stamping): nothing was lost.
        if (stampOf(seen) !== undefined) ctx.reportError(new StoreResetError(ctx.keys.namespace), 'lineage')
        return fresh
      }
      // Another process moved it first; its epoch is as good as ours if it names this server.
      const now = await ctx.store.get(ctx.keys.globalKey)
      return now !== undefined && stampOf(now) === id ? now : undefined
    } catch (error) {
      ctx.reportError(error, 'lineage')
      return undefined
    }
  }
}

/** The data-set id in a stamped token (`<token>@<id>`, or `<token>@<id>.<n>` when created missing). */
export function stampOf(token: string): string | undefined {
  const at = token.lastIndexOf('@')
  if (at === -1) return undefined
  const dot = token.indexOf('.', at)
  return dot === -1 ? token.slice(at + 1) : token.slice(at + 1, dot)
}
