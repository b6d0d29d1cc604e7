import { isTaggableValue, memberTag, unnamedMemberTag } from '@ormcache/core/adapter'
import type { ModelInfo } from '../schema/data-model.js'
import { isRecord } from '../schema/primary-key.js'

/**
 * A row an update changed keeps the value of every column it does not set. Lists pinned to one
 * of those values may depend on its member tag instead of on the row tags of the rows they hold
 * (docs/design.md, "Lists without row tags"), so the write names each of them, from the row
 * Prisma returned for this write. Where that row does not show a value (a `select` that leaves
 * the field out), the table's unnamed-member tag stands for all of them.
 */
export function keptTags(model: ModelInfo, row: unknown, set: readonly string[], tags: Set<string>): void {
  for (const field of model.pinnable) {
    if (set.includes(field)) continue
    const value = isRecord(row) ? row[field] : undefined
    if (isTaggableValue(value)) tags.add(memberTag(model.table, model.columns.get(field)!, value))
    else tags.add(unnamedMemberTag(model.table))
  }
}
