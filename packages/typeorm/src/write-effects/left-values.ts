import { columnLeftTag } from '@ormcache/core/adapter'
import type { TableInfo } from '../schema/entity-schema.js'
import type { StatementShape } from '../sql/statements.js'

/**
 * The column-left tags of a known-row write (docs/design.md, "Counts: rows that leave a pin"): an
 * UPDATE … WHERE pk may move each row away from the old value of every column it sets, a DELETE
 * … WHERE pk from the old value of every column, and neither names those values. Inserts leave
 * nothing. Every mapped column, as for column-any tags: another ORM may pin one that is not
 * pinnable here.
 */
export function leftTags(shape: StatementShape, table: TableInfo, tags: Set<string>): void {
  if (shape.kind === 'update') {
    const columns = shape.assigned ?? table.columns
    for (const column of columns) tags.add(columnLeftTag(table.name, column))
  } else if (shape.kind === 'delete') {
    for (const column of table.columns) tags.add(columnLeftTag(table.name, column))
  }
}

/**
 * The same for an entity event (event-tags.ts) that is not an insert: it does not say which
 * columns changed from what, so every column.
 */
export function eventLeftTags(table: TableInfo, tags: Set<string>): void {
  for (const column of table.columns) tags.add(columnLeftTag(table.name, column))
}
