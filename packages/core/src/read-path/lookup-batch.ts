import type { CacheContext } from '../cache-context.js'
import type { EntryAddress } from '../query-key.js'
import { sameList } from '../same-list.js'
import type { Budget } from '../store/budget.js'
import type { LeaseRef } from '../store/types.js'
import { type Lookup, lookup } from './store-lookup.js'

interface Open {
  tags: readonly string[]
  guards: readonly string[]
  leased: boolean
  /** The tick this lookup waits for; its first reader sends it when that tick comes. */
  gate: Promise<void>
  /** Set by the first reader the moment it sends the lookup. */
  sent?: Promise<Lookup>
  /** The sent lookup as the joined readers await it: one promise for all of them. */
  joined?: Promise<Lookup>
}

/**
 * Concurrent reads of one key in one process share one store lookup, but only a lookup that has
 * not been sent yet: it leaves on the next tick, after every read that joined it had started, so
 * it sees every write that finished before any of them began. A lookup already on its way may
 * predate such a write, so nobody joins it. A stampede of N readers in a process thus costs one
 * lookup instead of N, and its load starts without waiting for the other N - 1 replies.
 *
 * All lookups opened in one tick wait on one shared gate (one promise and one nextTick per tick,
 * not per read): the hit path of 64 concurrent callers pays for the hop once.
 */
export class LookupBatch {
  private readonly open = new Map<string, Open>()
  private gate: Promise<void> | undefined

  /** A joined read waits within the budget of the read that sends the lookup, as it shares its reply. */
  lookup(
    ctx: CacheContext,
    budget: Budget | undefined,
    address: EntryAddress,
    tags: readonly string[],
    lease: LeaseRef | undefined,
    guards: readonly string[] = [],
  ): Promise<Lookup> {
    const pending = this.open.get(address.storeKey)
    if (
      pending !== undefined &&
      pending.leased === (lease !== undefined) &&
      sameList(pending.tags, tags) &&
      sameList(pending.guards, guards)
    )
      return this.join(ctx, pending)
    if (pending !== undefined) return lookup(ctx, budget, address, tags, lease, guards)
    const open: Open = { tags, guards, leased: lease !== undefined, gate: this.nextTick() }
    this.open.set(address.storeKey, open)
    return this.send(ctx, budget, address, open, lease)
  }

  private async send(
    ctx: CacheContext,
    budget: Budget | undefined,
    address: EntryAddress,
    open: Open,
    lease: LeaseRef | undefined,
  ): Promise<Lookup> {
    await open.gate
    // Closed before it is sent: a read that starts from here on sends its own.
    if (this.open.get(address.storeKey) === open) this.open.delete(address.storeKey)
    open.sent = lookup(ctx, budget, address, open.tags, lease, open.guards)
    return open.sent
  }

  private join(ctx: CacheContext, open: Open): Promise<Lookup> {
    // Joined after the first reader awaited the same gate: its continuation runs first and sends.
    // A stampede joins hundreds of readers: they share one continuation, and only a value they
    // will see gets copied per reader.
    open.joined ??= open.gate.then(() => open.sent!)
    return open.joined.then((found) => ownCopy(ctx, found))
  }

  private nextTick(): Promise<void> {
    let gate = this.gate
    if (gate === undefined) {
      gate = new Promise<void>((resolve) =>
        process.nextTick(() => {
          this.gate = undefined
          resolve()
        }),
      )
      this.gate = gate
    }
    return gate
  }
}

/** A joined read gets its own copy of the value, never the first reader's object. */
function ownCopy(ctx: CacheContext, found: Lookup): Lookup {
  if (found.kind === 'miss' || found.kind === 'untrusted') return found
  return { ...found, entry: { ...found.entry, value: ctx.codec.clone(found.entry.value) } }
}
