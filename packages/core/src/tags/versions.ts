import crypto from 'node:crypto'
import type { KeySpace } from '../query-key.js'
import { createMissing, readVersions } from '../store/store-ops.js'
import type { CacheStore, StoreWrite } from '../store/types.js'
import { PerTagsArray } from './per-tags-array.js'
import { isFineTag, tableOfTag, tableTag } from './vocabulary.js'
import { ANY_ROW, type LoggedBump } from './write-log.js'

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
    /** Tokens that may become the namespace epoch (stamped with the data set, see lineage.ts). */
    private readonly epochToken: () => string = newToken,
    /** The epoch to snapshot under, moved if it was written on another data set (lineage.ts). */
    private readonly verifyEpoch: (epoch: string) => Promise<string | undefined> = async (epoch) => epoch,
    /** Resolves once the data set is known on a cold connection (lineage.ts `ready`). */
    private readonly lineageReady: () => Promise<void> | undefined = () => undefined,
  ) {}

  /**
   * Store keys holding the versions of the namespace epoch followed by each tag. Kept per tags
   * array: the arrays hit reads ask with are long-lived (an L1 entry's tags, the tags an entry was
   * stored under in `headTags`), and a list's can name ~80 tags, whose one-by-one memo lookups
   * were the largest item of a list hit's own CPU (per-tags-array.ts).
   */
  storeKeys(tags: readonly string[]): readonly string[] {
    const known = this.keyLists.get(tags)
    if (known !== undefined) return known
    const keys = [this.keys.globalKey]
    for (const tag of tags) keys.push(this.keys.tag(tag))
    return this.keyLists.set(tags, keys)
  }

  private readonly keyLists = new PerTagsArray<readonly string[]>()

  /**
   * The versions to judge a stored entry by, the namespace epoch first: a plain read, except on
   * a store whose version keys can be trusted only through `readVersions` (Redis Cluster, see
   * `StoreCapabilities.readVersionsOnly`); a version it creates there is new, hence a miss.
   */
  async current(store: CacheStore, tags: readonly string[]): Promise<(string | undefined)[]> {
    const keys = this.storeKeys(tags)
    if (store.capabilities.readVersionsOnly !== true) return store.getMany(keys)
    return readVersions(store, { keys, token: this.epochToken(), tagTtlMs: this.tagTtlMs })
  }

  /** The current versions of `tags`, missing ones created (one round trip on Redis). */
  async snapshot(store: CacheStore, tags: readonly string[]): Promise<Snapshot> {
    // A write first on a cold connection would otherwise create an unstamped epoch that the
    // next lookup moves, killing what this write stores.
    const unknownServer = this.lineageReady()
    if (unknownServer !== undefined) await unknownServer
    const versions = await readVersions(store, {
      keys: this.storeKeys(tags),
      token: this.epochToken(),
      tagTtlMs: this.tagTtlMs,
    })
    // An entry stored under an epoch that is not trusted would never be served: move it first
    // (typically the epoch this very call created before the server's id was known). If it
    // cannot be trusted now, the old one is kept, which only costs a miss later.
    const epoch = (await this.verifyEpoch(versions[0]!)) ?? versions[0]!
    return { epoch, tags, versions: versions.slice(1) }
  }

  /**
   * A snapshot from versions already read with `storeKeys(tags)` (epoch first), creating the
   * missing ones exactly as `snapshot` does.
   */
  async resolve(
    store: CacheStore,
    tags: readonly string[],
    storeKeys: readonly string[],
    read: readonly (string | undefined)[],
  ): Promise<Snapshot> {
    const versions = await createMissing(
      store,
      { keys: [...storeKeys], token: this.epochToken(), tagTtlMs: this.tagTtlMs },
      read,
    )
    return { epoch: versions[0]!, tags, versions: versions.slice(1) }
  }

  /**
   * New tokens for `tags` (and the epoch when `everything`), and the writes that install them.
   * Coarse tags (table, bulk, column-any, column-left, unnamed-member, the epoch) come before
   * fine ones (row, column-value and member tags): a reader that learns fine dependencies only
   * after its load checks that the coarse tags did not move, which is sound only if no fine bump
   * is visible before its coarse bump (docs/design.md, "Dependencies known after the load").
   * `writes` is `coarse` then `fine`.
   */
  plan(tags: readonly string[], everything = false): TagPlan {
    const fresh = new Map<string, string>()
    for (const tag of new Set(tags)) fresh.set(tag, newToken())
    const coarse: StoreWrite[] = []
    const fine: StoreWrite[] = []
    for (const [tag, token] of fresh) {
      const write = { key: this.keys.tag(tag), value: token, ttlMs: this.tagTtlMs }
      if (isFineTag(tag)) fine.push(write)
      else coarse.push(write)
    }
    if (everything) coarse.push({ key: this.keys.globalKey, value: this.epochToken() })
    const logged = this.logged(fresh)
    const loggedKeys = new Set(logged.map((bump) => bump.tagKey))
    return {
      fresh,
      coarse,
      fine,
      writes: coarse.concat(fine),
      logged,
      unlogged: coarse.filter((write) => !loggedKeys.has(write.key)),
    }
  }

  /**
   * The write-log records of a bump (stores/write-log.ts): one per table any of `fresh`'s tags
   * belongs to, moving its table tag (to the planned token, or a new one: an extra table bump
   * only costs misses). The record names the row, column-value, column-any, column-left, member
   * and unnamed-member tags bumped; a bulk tag, or no row or column-value tag of the table at
   * all, means rows the write cannot name, logged as ANY_ROW.
   */
  private logged(fresh: ReadonlyMap<string, string>): LoggedBump[] {
    const tables = new Map<string, { fine: string[]; named: boolean; unknown: boolean }>()
    for (const tag of fresh.keys()) {
      const table = tableOfTag(tag)
      if (table === undefined) continue
      let rows = tables.get(table)
      if (rows === undefined) {
        rows = { fine: [], named: false, unknown: false }
        tables.set(table, rows)
      }
      if (tag.startsWith('r:') || tag.startsWith('v:')) {
        rows.fine.push(this.keys.tag(tag))
        rows.named = true
      } else if (tag.startsWith('b:')) rows.unknown = true
      // Named too, but they do not name the write's rows: those are its row and value tags.
      else if (!tag.startsWith('t:')) rows.fine.push(this.keys.tag(tag))
    }
    const out: LoggedBump[] = []
    for (const [table, rows] of tables) {
      const tag = tableTag(table)
      const tagKey = this.keys.tag(tag)
      out.push({
        tagKey,
        logKey: this.keys.log(tagKey),
        token: fresh.get(tag) ?? newToken(),
        ttlMs: this.tagTtlMs,
        keys: rows.unknown || !rows.named ? [ANY_ROW] : rows.fine,
      })
    }
    return out
  }

  /** Plans and applies a bump, coarse before fine; returns the new tokens. */
  async bump(store: CacheStore, tags: readonly string[], everything = false): Promise<Map<string, string>> {
    const plan = this.plan(tags, everything)
    await applyPlan(store, plan)
    return plan.fresh
  }
}

export interface TagPlan {
  fresh: Map<string, string>
  coarse: StoreWrite[]
  fine: StoreWrite[]
  writes: StoreWrite[]
  /** Table tags with their write-log records, for stores with a write log. */
  logged: LoggedBump[]
  /** `coarse` without the table tags `logged` moves. */
  unlogged: StoreWrite[]
}

/**
 * Installs a plan's tokens. A store whose batches are seen in order (one Redis node, memory)
 * takes one batch; others take the coarse batch, then the fine one, when both are present.
 */
export async function applyPlan(store: CacheStore, plan: TagPlan): Promise<void> {
  if (plan.writes.length === 0) return
  if (store.writeLog !== undefined && plan.logged.length > 0)
    return store.writeLog.bump(plan.unlogged, plan.logged, plan.fine)
  if (!mustSplit(store, plan)) return store.setMany(plan.writes)
  await store.setMany(plan.coarse)
  await store.setMany(plan.fine)
}

/** True when the coarse writes must be acknowledged before any fine write is sent. */
export function mustSplit(store: CacheStore, plan: TagPlan): boolean {
  return plan.coarse.length > 0 && plan.fine.length > 0 && store.capabilities.orderedBatches !== true
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
