import type { CacheContext } from './context.js'
import type { EntryAddress } from './keys.js'
import { type Lookup, lookup } from './read-path.js'
import type { LeaseRef } from './stores/types.js'

interface Open {
  tags: readonly string[]
  leased: boolean
  promise: Promise<Lookup>
}

/**
 * Concurrent reads of one key in one process share one store lookup, but only a lookup that has
 * not been sent yet: it leaves on the next tick, after every read that joined it had started, so
 * it sees every write that finished before any of them began. A lookup already on its way may
 * predate such a write, so nobody joins it. A stampede of N readers in a process thus costs one
 * lookup instead of N, and its load starts without waiting for the other N - 1 replies.
 */
export class LookupBatch {
  private readonly open = new Map<string, Open>()

  lookup(
    ctx: CacheContext,
    address: EntryAddress,
    tags: readonly string[],
    lease: LeaseRef | undefined,
  ): Promise<Lookup> {
    const pending = this.open.get(address.storeKey)
    if (pending !== undefined && pending.leased === (lease !== undefined) && sameTags(pending.tags, tags))
      return pending.promise.then((found) => ownCopy(ctx, found))
    if (pending !== undefined) return lookup(ctx, address, tags, lease)
    const promise = new Promise<void>((resolve) => process.nextTick(resolve)).then(() => {
      // Closed before it is sent: a read that starts from here on sends its own.
      this.open.delete(address.storeKey)
      return lookup(ctx, address, tags, lease)
    })
    this.open.set(address.storeKey, { tags, leased: lease !== undefined, promise })
    return promise
  }
}

/** A joined read gets its own copy of the value, never the first reader's object. */
function ownCopy(ctx: CacheContext, found: Lookup): Lookup {
  if (found.kind === 'miss' || found.kind === 'untrusted') return found
  return { ...found, entry: { ...found.entry, value: ctx.codec.clone(found.entry.value) } }
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
