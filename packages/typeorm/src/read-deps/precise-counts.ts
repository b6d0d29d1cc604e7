import { bulkTag, columnAnyTag, columnLeftTag, columnTag, type SqlDialect } from '@ormcache/core/adapter'
import type { SchemaIndex } from '../schema/entity-schema.js'
import { operandValue } from '../schema/row-keys.js'
import { countShape } from '../sql/count-shape.js'
import { pinValue } from './precise-reads.js'

/**
 * Dependencies of a pinned count (docs/design.md, "Counts: rows that leave a pin"): `b:T` and,
 * for every pinned column, the column-value tag of every pin, the column-any tag and the
 * column-left tag, all known before the load. Undefined when the statement is not a count of the
 * rows a pinned filter matches.
 */
export function preciseCount(
  sql: string,
  params: readonly unknown[],
  dialect: SqlDialect,
  schema: SchemaIndex,
): { tags: string[]; label: string } | undefined {
  const shape = countShape(sql, dialect)
  if (shape === undefined) return undefined
  const table = schema.table(shape.table)
  if (table === undefined || table.tree) return undefined
  // COUNT(DISTINCT x) counts rows only when x is the (single, non-null) key.
  if (
    shape.distinct !== undefined &&
    (table.primary.length !== 1 || table.primary[0]!.name.toLowerCase() !== shape.distinct.toLowerCase())
  )
    return undefined
  const tags = new Set<string>([bulkTag(table.name)])
  for (const branch of shape.pins) {
    for (const [name, operands] of branch) {
      const kind = table.pinnable.get(name.toLowerCase())
      if (kind === undefined) return undefined
      tags.add(columnAnyTag(table.name, name))
      tags.add(columnLeftTag(table.name, name))
      for (const operand of operands) {
        const value = pinValue(kind, operandValue(operand, params))
        if (value === undefined) return undefined
        tags.add(columnTag(table.name, name, value))
      }
    }
  }
  return { tags: [...tags], label: table.name }
}
