import crypto from 'node:crypto'
import type { KeySpace } from './keys.js'
import type { CacheStore, StoreWrite } from './stores/types.js'
import { isFineTag } from './vocabulary.js'

/**
 * The tag-version protocol. A tag's current version is an opaque token in the store; an entry
 * is valid only while every token it was computed under is still current. Invalidating a tag
 * writes a new token. A missing token counts as "changed", so evicting a tag can only cause
 * misses, never bring an old entry back. Tokens are never compared by order or time, so no clock
 * or counter has to agree across hosts.
 */

/** A process-unique random prefix plus a counter: unique without a syscall per token. */
const processPrefix = crypto.randomBytes(9).toString('base64url')
let counter = 0

export function newToken(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${processPrefix}${counter.toString(36)}`
}

export interface Snapshot {
  epoch: string
  tags: readonly string[]
  versions: readonly string[]
}

export class TagVersions {
  constructor(
    private readonly keys: KeySpace,
    private readonly tagTtlMs: number,
  ) {}

  /** Store keys holding the versions of the namespace epoch followed by each tag. */
  storeKeys(tags: readonly string[]): string[] {
    const keys = [this.keys.globalKey]
    for (const tag of tags) keys.push(this.keys.tag(tag))
    return keys
  }

  /**
   * Turns versions just read into a snapshot, creating a token for every missing one. Creation
   * uses add (SET NX) and re-reads the winner, so concurrent creators agree on one token.
   */
  async resolve(
    store: CacheStore,
    tags: readonly string[],
    storeKeys: readonly string[],
    read: readonly (string | undefined)[],
  ): Promise<Snapshot> {
    const versions = [...read]
    const missing: number[] = []
    versions.forEach((version, i) => {
      if (version === undefined) missing.push(i)
    })
    if (missing.length > 0) {
      const created = await Promise.all(
        missing.map(async (i) => {
          const token = newToken()
          const key = storeKeys[i]!
          // The epoch (index 0) never expires: losing it would invalidate the whole namespace.
          if (await store.add(key, token, i === 0 ? undefined : this.tagTtlMs)) return token
          // Another process created it between our read and add; its token is the current one.
          // If it vanished again (eviction), fall back to ours: the entry will simply miss.
          return (await store.get(key)) ?? token
        }),
      )
      missing.forEach((index, j) => {
        versions[index] = created[j]
      })
    }
    return { epoch: versions[0]!, tags, versions: versions.slice(1) as string[] }
  }

  /**
   * Writes new tokens for `tags` (and the epoch when `everything`), returning them in order.
   * Coarse tags (table, bulk, column-any, the epoch) land before fine ones (row and column-value
   * tags): a reader that learns fine dependencies only after its load checks that the coarse
   * tags did not move, which is sound only if no fine bump is visible before its coarse bump
   * (docs/design.md, "Dependencies known after the load"). Ordered stores take one batch, in
   * that order; others take two sequential batches when both kinds are present.
   */
  async bump(store: CacheStore, tags: readonly string[], everything = false): Promise<Map<string, string>> {
    const fresh = new Map<string, string>()
    for (const tag of new Set(tags)) fresh.set(tag, newToken())
    const coarse: StoreWrite[] = []
    const fine: StoreWrite[] = []
    for (const [tag, token] of fresh) {
      const write = { key: this.keys.tag(tag), value: token, ttlMs: this.tagTtlMs }
      if (isFineTag(tag)) fine.push(write)
      else coarse.push(write)
    }
    if (everything) coarse.push({ key: this.keys.globalKey, value: newToken() })
    if (coarse.length === 0 || fine.length === 0 || store.capabilities.orderedBatches === true) {
      const writes = coarse.concat(fine)
      if (writes.length > 0) await store.setMany(writes)
    } else {
      await store.setMany(coarse)
      await store.setMany(fine)
    }
    return fresh
  }
}

/** True if every version in the entry is the current one; a missing current version is a change. */
export function isCurrent(
  entry: { epoch: string; versions: readonly string[] },
  currentEpoch: string | undefined,
  current: readonly (string | undefined)[],
): boolean {
  if (currentEpoch === undefined || entry.epoch !== currentEpoch) return false
  if (current.length !== entry.versions.length) return false
  for (let i = 0; i < current.length; i++) {
    if (current[i] === undefined || current[i] !== entry.versions[i]) return false
  }
  return true
}
