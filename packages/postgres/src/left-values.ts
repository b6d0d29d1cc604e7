import { columnLeftTag, columnTag } from '@ormcache/core/adapter'
import type { RelationInfo } from './transaction-tags.js'
import { nameable } from './values.js'

type Row = Record<string, unknown> | null | undefined

/**
 * The old values an UPDATE (`row` = the new row) or DELETE (`row` undefined) took rows away from,
 * for counts over pins (docs/design.md, "Counts: rows that leave a pin"): the column-value tag of
 * each old value the stream names, the column-left tag of each column whose old value it does not.
 *
 * - REPLICA IDENTITY FULL: `old` is the whole old row; an update names only the columns whose
 *   text changed.
 * - Otherwise `key` holds the old key columns when the key changed (or for a delete); with the
 *   default identity and no key tuple, an update left the key as it is. Every other column's old
 *   value is unknown, and pgoutput does not say which columns an update set, so each one (except
 *   unchanged TOASTed values, which it leaves out) gets its column-left tag.
 */
export function leftValues(
  tags: Set<string>,
  table: string,
  relation: RelationInfo,
  row: Row,
  old: Row,
  key: Row,
): void {
  const before = old ?? key
  const keyUnchanged = row != null && old == null && key == null && relation.identity === 'default'
  const keys = new Set(relation.primaryKey)
  for (const [column, type] of relation.columns) {
    const next = row?.[column]
    // An update that did not resend a TOASTed value did not change it.
    if (row != null && next === undefined) continue
    if (keyUnchanged && keys.has(column)) continue
    // A key tuple carries non-key columns as undefined (not sent), never as null.
    const known = before != null && before[column] !== undefined
    if (known && row != null && before[column] === next) continue
    const value = known ? nameable(type, before[column]) : undefined
    tags.add(value === undefined ? columnLeftTag(table, column) : columnTag(table, column, value))
  }
}
