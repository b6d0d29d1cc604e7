import type { CacheContext } from '../cache-context.js'
import type { Entry } from '../entry.js'
import type { EntryAddress } from '../query-key.js'
import { sameList } from '../same-list.js'
import type { Budget } from '../store/budget.js'
import { isCurrent } from '../tags/versions.js'
import { offersPlainRead } from './plain-hit.js'
import { answers } from './store-lookup.js'

/**
 * An L1 answer for `address` under `tags`, or undefined to go to the store. bounded mode trusts
 * L1 within maxStaleness (the bus evicts invalidated entries); strict mode confirms the entry's
 * versions with one small read (no payload, no parse). Store faults fall through to the caller's
 * own error handling by rejecting.
 *
 * An entry stored under other tags than the asked ones (an after-load list keeps the fine tags
 * it learned in place of its guards) answers on the plain hit's terms (plain-hit.ts, store-lookup.ts
 * `answers`): only if it depends on every asked tag but the guards, and it is confirmed by its own
 * tags, the ones every write that changes it bumps (docs/design.md "Dependencies known after the
 * load"). The bus evicts it by those same tags (tiers/l1.ts indexes `entry.tags`).
 */
export async function readL1(
  ctx: CacheContext,
  budget: Budget | undefined,
  address: EntryAddress,
  tags: readonly string[],
  guards: readonly string[],
): Promise<Entry | undefined> {
  const l1 = ctx.l1
  if (l1 === undefined || !l1.active) return undefined
  const slot = l1.get(address.storeKey)
  if (slot === undefined) return undefined
  const { entry } = slot
  const own = entry.tags
  if (
    entry.identity !== address.identity ||
    !(sameList(own, tags) || answers(own, tags, guards)) ||
    Date.now() >= entry.freshUntil
  ) {
    l1.delete(address.storeKey)
    return undefined
  }
  if (ctx.options.consistency === 'bounded') {
    if (l1.isFresh(slot)) return entry
    l1.delete(address.storeKey)
    return undefined
  }
  const current = await confirmingVersions(ctx, budget, own)
  if (ctx.lineage.trusted(current[0]) && isCurrent(entry, current[0], current.slice(1))) return entry
  l1.delete(address.storeKey)
  return undefined
}

/**
 * The epoch and the versions of `tags`, read the way the plain hit reads them where the store has
 * that read: on one Redis node a GETEX leads it (here of the epoch key), so under CLIENT PAUSE
 * WRITE Redis holds it like the writes whose invalidations the pause holds, and an entry one of
 * them was meant to kill is not confirmed meanwhile (docs/design.md "The hit read"; a plain MGET
 * is answered during the pause and confirmed it: test/client-pause.test.ts). Elsewhere, the
 * store's plain version read, as before.
 */
async function confirmingVersions(
  ctx: CacheContext,
  budget: Budget | undefined,
  tags: readonly string[],
): Promise<(string | undefined)[]> {
  const store = ctx.store
  if (offersPlainRead(store)) {
    const keys = ctx.tags.storeKeys(tags)
    const values = await store.readHit(keys[0]!, keys.slice(1), budget)
    // Empty: a server without GETEX; its plain read is all there is.
    if (values.length > 0) return values
  }
  return ctx.tags.current(store.within(budget), tags)
}
