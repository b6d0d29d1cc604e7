/**
 * `@ormcache/core/adapter`: the plumbing ORM adapters share, kept out of the root entry so the
 * cache's own API stays small. The tag vocabulary (the names both adapters agree on, so one ORM's
 * writes invalidate the other's reads), canonical keys, SQL table extraction and the per-
 * transaction invalidation buffer.
 */
export { holdCache } from './cache-holds.js'
export { invalidateConfirmed } from './confirmed-invalidate.js'
export { type BuildKeyOptions, buildKey, type KeyEncoder } from './keys.js'
export { reportListenerError } from './listener-report.js'
export { type BypassReason, planRead, type ReadPlan, type ReadPlanInput } from './read-plan.js'
export {
  classifyRead,
  type ReadSafetyOptions,
  type ReadVerdict,
  type UncacheableReason,
} from './sql/read-safety.js'
export { type SqlTables, sqlTables } from './sql/tables.js'
export {
  isPunct,
  isWord,
  type SqlDialect,
  type Token as SqlToken,
  tokenize as tokenizeSql,
} from './sql/tokenize.js'
export { type PendingInvalidation, TransactionBuffer } from './transaction-buffer.js'
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
} from './validate.js'
export {
  bulkTag,
  bulkWriteTags,
  columnAnyTag,
  columnTag,
  isTaggableValue,
  normalizeTable,
  rowTag,
  rowWriteTags,
  tableTag,
} from './vocabulary.js'
