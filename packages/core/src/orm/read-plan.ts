import type { Cache } from '../cache.js'
import { NoDependenciesError } from '../errors.js'
import type { ReadVerdict, UncacheableReason } from '../sql/read-safety.js'

/** Why an ORM read went to the database without consulting the cache. */
export type BypassReason = UncacheableReason | 'no-dependencies'

export interface ReadPlanInput {
  /** The cache key the read would use (for the error report). */
  key: string
  /** `classifyRead`'s verdict on the SQL text; model reads that have no SQL text pass none. */
  verdict?: ReadVerdict
  /** Tags derived from what the read reads (not tags the caller added by hand). */
  dependencies: readonly string[]
  /**
   * The query itself asked to be cached with its own lifetime (or id): a `volatile` or
   * `no-tables` read is then cached, and only its TTL ends it. Never enough for `writes`,
   * `unknown` or `locking`.
   */
  explicit: boolean
}

export type ReadPlan = { cache: true } | { cache: false; reason: BypassReason }

const OPT_IN: ReadonlySet<UncacheableReason> = new Set(['volatile', 'no-tables'])

/**
 * Decides whether an ORM read may use the cache; both adapters ask it before `wrap`. A read
 * whose derived dependencies are empty is refused and reported as an `error` event
 * (`ERR_NO_DEPENDENCIES`) — it would be an entry no write can invalidate — unless it reads no
 * table at all and the query asked explicitly. `cache.wrap(key, load)` called by users is not
 * concerned: a hand-written entry without tags is legitimate there.
 */
export function planRead(cache: Pick<Cache, 'reportError'>, input: ReadPlanInput): ReadPlan {
  const { verdict, explicit } = input
  if (verdict !== undefined && !verdict.cacheable) {
    const reason = verdict.reason ?? 'unknown'
    if (!explicit || !OPT_IN.has(reason)) return { cache: false, reason }
  }
  if (input.dependencies.length > 0) return { cache: true }
  if (explicit && verdict !== undefined && verdict.reads.length === 0) return { cache: true }
  cache.reportError(new NoDependenciesError(input.key), 'read-plan', input.key)
  return { cache: false, reason: 'no-dependencies' }
}
