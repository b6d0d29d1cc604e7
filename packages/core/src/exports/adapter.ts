/**
 * `@ormcache/core/adapter`: the plumbing ORM adapters share, kept out of the root entry so the
 * cache's own API stays small. The tag vocabulary (the names both adapters agree on, so one ORM's
 * writes invalidate the other's reads), canonical keys, SQL table extraction and the per-
 * transaction invalidation buffer.
 */
export { holdCache } from '../orm/cache-holds.js'
export { composesReads } from '../orm/composed-reads.js'
export { invalidateConfirmed } from '../orm/confirmed-invalidate.js'
export { reportListenerError } from '../orm/listener-report.js'
export { type BypassReason, planRead, type ReadPlan, type ReadPlanInput } from '../orm/read-plan.js'
export { type PendingInvalidation, TransactionBuffer } from '../orm/transaction-buffer.js'
export { type BuildKeyOptions, buildKey, type KeyEncoder, Memo } from '../query-key.js'
export {
  classifyRead,
  type ReadSafetyOptions,
  type ReadVerdict,
  type UncacheableReason,
} from '../sql/read-safety.js'
export { type SqlTables, sqlTables } from '../sql/tables.js'
export {
  isPunct,
  isWord,
  type SqlDialect,
  type Token as SqlToken,
  tokenize as tokenizeSql,
} from '../sql/tokenize.js'
export {
  bulkTag,
  bulkWriteTags,
  columnAnyTag,
  columnLeftTag,
  columnTag,
  isTaggableValue,
  memberTag,
  normalizeTable,
  rowTag,
  rowWriteTags,
  tableTag,
  unnamedMemberTag,
} from '../tags/vocabulary.js'
export {
  booleanOption,
  type DurationRule,
  durationMs,
  functionOption,
  integerOption,
  knownKeys,
  MAX_TIMER_MS,
  MAX_TTL_MS,
  nonEmptyString,
  optionsObject,
} from '../validate.js'
