import type { Guard, LeaseRef, StoreWrite, VersionRead } from '../store/types.js'

/**
 * The per-table write log (docs/design.md, "Dependencies known after the load"). Every bump that
 * touches a table `T` moves `T`'s table tag to a fresh token and, atomically with it, appends
 * `<token> <previous token> <store keys of the fine tags of T it bumps>` (or `… *` when the
 * write cannot name its rows) to `T`'s log, strictly before any of its fine bumps become visible. A read
 * whose fine dependencies are known only after its load then needs to skip its fill only when a
 * write logged after its snapshot of the table tag names one of them, instead of on any write
 * to the table.
 */
export interface WriteLog {
  /** Applies `coarse` and `logged` (each table tag with its log record), then `fine`. */
  bump(
    coarse: readonly StoreWrite[],
    logged: readonly LoggedBump[],
    fine: readonly StoreWrite[],
  ): Promise<void>
  /**
   * `bump`, and write-through's entry stored only if every guard held before it (as
   * CacheStore.bumpGuarded); resolves whether the entry was stored.
   */
  bumpGuarded(
    coarse: readonly StoreWrite[],
    logged: readonly LoggedBump[],
    fine: readonly StoreWrite[],
    guards: readonly Guard[],
    entry: StoreWrite,
  ): Promise<boolean>
  /**
   * Reads (creating missing) the epoch and fine versions, then checks every table's log since
   * `since`; stores `fill` under those versions only if the epoch held and no table was dirty.
   */
  settle(request: SettleRequest): Promise<SettleReply>
}

/** Records kept per table; a reader whose snapshot fell off the log skips its fill. */
export const LOG_LENGTH = 128
/** Logged instead of fine tags by a write whose rows are unknown: every reader skips. */
export const ANY_ROW = '*'

export interface LoggedBump {
  /** Store key of the table tag `t:T`. */
  tagKey: string
  /** Store key of `T`'s log, in the same Redis Cluster slot as `tagKey` (KeySpace.log). */
  logKey: string
  token: string
  ttlMs: number
  /** Store keys of the row, column-value and column-any tags of `T` bumped, or [ANY_ROW]. */
  keys: readonly string[]
}

export interface LogCheck {
  tagKey: string
  logKey: string
  /** The table tag's version in the read's pre-load snapshot. */
  since: string
}

export interface SettleRequest extends VersionRead {
  /** `keys` are the epoch key, then the fine tags' keys; `epoch` is the snapshot's epoch. */
  epoch: string
  tables: readonly LogCheck[]
  /**
   * Store keys of the guarded tables' tags the read took before its load (pins, column-any): a
   * logged write naming one of them also dirties the read (its entry would be stored dead).
   */
  watch: readonly string[]
  /**
   * The entry to store when clean: `head` is its first line without the fine versions, which the
   * store appends (space-separated, in `keys` order) before `rest` (from the first newline on).
   */
  fill?: { key: string; head: string; rest: string; ttlMs?: number; lease?: LeaseRef | undefined } | undefined
}

export interface SettleReply {
  /** Epoch then fine versions, as read (or created). */
  versions: string[]
  /** The epoch held and no logged write since the snapshot named a fine tag. */
  clean: boolean
  /** `fill` was stored. */
  filled: boolean
  /**
   * The store let `fill.lease` go although it refused the fill (and woke its waiters), so the
   * caller sends no release of its own. Absent or false: the caller releases it.
   */
  released?: boolean
}

/** What a log record holds after its token and previous token: the tag keys, space-separated. */
export function logKeys(bump: LoggedBump): string {
  return bump.keys.join(' ')
}

/**
 * A log record as stored: the new token of the table tag, the token it replaced ('-' when the
 * tag was absent), then the tag keys. Store keys and tokens never contain spaces.
 */
export function logRecord(bump: LoggedBump, previous: string | undefined): string {
  return `${bump.token} ${previous ?? '-'} ${logKeys(bump)}`
}

/**
 * Whether `records` (oldest first) prove that no write after `since` named one of `fine`: the
 * current table tag is `since`; or the newest record installed `current`, and walking back from
 * it reaches the record that replaced `since` (so every move of the tag since the snapshot is in
 * the log) without meeting a record that names a fine key or ANY_ROW. Shared by stores that check
 * in process; the Redis scripts implement the same rule.
 */
export function logClean(
  current: string | undefined,
  since: string,
  records: readonly string[],
  fine: ReadonlySet<string>,
): boolean {
  // The log is its newest LOG_LENGTH records, as Redis's LTRIM keeps them; a store may hold
  // older ones it has not trimmed yet (the memory store trims in steps), never consulted.
  const oldest = Math.max(0, records.length - LOG_LENGTH)
  if (current === since) return true
  if (current === undefined || records.length === 0) return false
  if (records[records.length - 1]!.split(' ', 1)[0] !== current) return false
  for (let i = records.length - 1; i >= oldest; i--) {
    const parts = records[i]!.split(' ')
    for (let j = 2; j < parts.length; j++) if (parts[j] === ANY_ROW || fine.has(parts[j]!)) return false
    if (parts[1] === since) return true
  }
  return false
}
