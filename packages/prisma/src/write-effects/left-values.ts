import { columnLeftTag, columnTag, isTaggableValue } from '@ormcache/core/adapter'
import type { ModelInfo } from '../schema/data-model.js'
import { isRecord } from '../schema/primary-key.js'

/**
 * Counts over pins lose a row when it leaves a pinned value (docs/design.md, "Counts: rows that
 * leave a pin"). A Prisma update does not see the old row: every pinnable field it sets may have
 * left an old value it cannot name, so it bumps that column's column-left tag.
 */
export function leftTags(model: ModelInfo, fields: readonly string[], tags: Set<string>): void {
  for (const field of fields) {
    if (model.pinnable.has(field)) tags.add(columnLeftTag(model.table, model.columns.get(field)!))
  }
}

/**
 * A deleted row leaves the value of every column: the column-value tag of each old value the
 * returned row shows (`delete` returns the row it deleted), the column-left tag where it does not
 * (a `select` that leaves the field out, nested deletes that return nothing).
 */
export function deletedTags(model: ModelInfo, row: unknown, tags: Set<string>): void {
  for (const field of model.pinnable) {
    const column = model.columns.get(field)!
    const value = isRecord(row) ? row[field] : undefined
    tags.add(
      isTaggableValue(value) ? columnTag(model.table, column, value) : columnLeftTag(model.table, column),
    )
  }
}
