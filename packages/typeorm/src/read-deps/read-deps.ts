import type { AfterLoad } from '@ormcache/core'
import { bulkTag, rowTag, type SqlDialect, tableTag } from '@ormcache/core/adapter'
import type { SchemaIndex } from '../schema/entity-schema.js'
import { rowsOfBranches } from '../schema/row-keys.js'
import { statementShape } from '../sql/statements.js'
import { tablesOf } from '../sql/tables.js'
import { preciseCount } from './precise-counts.js'
import { preciseRead } from './precise-reads.js'

export interface ReadDependencies {
  tags: string[]
  /** A readable name for the key: the table of a primary-key lookup, or the first table read. */
  label: string
  /** Dependencies learned from the loaded rows (precise lists, precise-reads.ts). */
  afterLoad?: AfterLoad
}

/**
 * The tags a cached SELECT depends on (design §3). A single-table lookup by primary key depends
 * on its row tags and the table's bulk tag, so writes to other rows leave it cached; a list
 * filtered only by equality pins (with LEFT-JOINed relations) depends on its pins and the rows
 * it returned (precise-reads.ts); every other read depends on the table tag of every table the
 * SQL text reads.
 */
export function readDependencies(
  sql: string,
  params: readonly unknown[],
  dialect: SqlDialect,
  schema: SchemaIndex,
  views: ReadonlyMap<string, readonly string[]>,
  members = false,
): ReadDependencies {
  const shape = statementShape(sql, dialect)
  if (shape?.kind === 'select' && !views.has(shape.table.toLowerCase())) {
    const table = schema.table(shape.table)
    const rows = table && !table.tree ? rowsOfBranches(shape.rows, table.primary, params) : undefined
    if (table !== undefined && rows !== undefined) {
      return { tags: [bulkTag(table.name), ...rows.map((row) => rowTag(table.name, row))], label: table.name }
    }
  }
  const precise =
    views.size === 0 || !readsView(sql, dialect, views)
      ? preciseRead(sql, params, dialect, schema, members)
      : undefined
  if (precise !== undefined) return precise
  const counted =
    views.size === 0 || !readsView(sql, dialect, views)
      ? preciseCount(sql, params, dialect, schema)
      : undefined
  if (counted !== undefined) return counted
  const tables = new Set<string>()
  for (const table of tablesOf(sql, dialect).reads) {
    tables.add(table)
    for (const underlying of views.get(table.toLowerCase()) ?? []) tables.add(underlying)
  }
  const tags = [...tables].map(tableTag)
  return { tags: [...new Set(tags)], label: tables.values().next().value ?? 'query' }
}

function readsView(sql: string, dialect: SqlDialect, views: ReadonlyMap<string, readonly string[]>): boolean {
  return tablesOf(sql, dialect).reads.some((table) => views.has(table.toLowerCase()))
}
