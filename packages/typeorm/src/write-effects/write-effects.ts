import {
  bulkWriteTags,
  columnAnyTag,
  columnTag,
  normalizeTable,
  rowTag,
  type SqlDialect,
  tableTag,
  unnamedMemberTag,
} from '@ormcache/core/adapter'
import { pinValue } from '../read-deps/precise-reads.js'
import type { SchemaIndex, TableInfo } from '../schema/entity-schema.js'
import { canonicalKey, MAX_ROWS, operandValue, type RowKey, rowsOfBranches } from '../schema/row-keys.js'
import { type InsertValue, type StatementShape, statementShape } from '../sql/statements.js'
import { tablesOf } from '../sql/tables.js'
import { leftTags } from './left-values.js'

export interface WriteEffect {
  tags: string[]
  /** The statement may write something unnameable: invalidate the whole namespace. */
  everything: boolean
  /** Tables the statement writes (normalized). */
  tables: string[]
}

const READ_ONLY = /^[\s(]*(SELECT|SHOW|DESCRIBE|DESC|EXPLAIN|PRAGMA|VALUES)\b/i
const INTO = /\bINTO\b/i

/**
 * What one executed statement changed, in tags (design §3): for every table it writes, the table
 * tag plus the row tags of the rows it names exactly, or the bulk tag when it cannot name them;
 * plus table and bulk tags of tables the database changes by cascade. Undefined for statements
 * that write nothing.
 */
export function writeEffect(
  sql: string,
  params: readonly unknown[],
  raw: unknown,
  dialect: SqlDialect,
  schema: SchemaIndex,
): WriteEffect | undefined {
  // Fast path: most statements an application runs are plain reads.
  if (READ_ONLY.test(sql) && !INTO.test(sql) && !/^\s*PRAGMA\b[^=]*=/i.test(sql)) return undefined
  const { writes } = tablesOf(sql, dialect)
  if (writes === undefined) return { tags: [], everything: true, tables: [] }
  if (writes.length === 0) return undefined
  const shape = writes.length === 1 ? statementShape(sql, dialect) : undefined
  const tags = new Set<string>()
  for (const written of writes) {
    const table = schema.table(written)
    const name = table?.name ?? written
    tags.add(tableTag(name))
    const sameTable = shape !== undefined && normalizeTable(shape.table) === normalizeTable(written)
    const rows =
      sameTable && table !== undefined && !table.tree ? rowsWritten(shape, table, params, raw) : undefined
    if (rows === undefined) for (const tag of bulkWriteTags(name)) tags.add(tag)
    else {
      for (const row of rows) tags.add(rowTag(name, row))
      // Lists pinned to a column value gain rows through the columns a write sets (docs/design.md,
      // "Precision", and "TypeORM writes name the values they set").
      valueTags(shape!, table!, params, rows, tags)
      // Counts over pins lose rows that leave a value; SQL never shows the old one.
      leftTags(shape!, table!, tags)
      // The rows keep the values of the columns it does not set, which the statement does not
      // name (docs/design.md, "Lists without row tags").
      if (shape!.kind === 'update') tags.add(unnamedMemberTag(name))
    }
    for (const dependent of cascades(sameTable ? shape : undefined, name, schema)) {
      for (const tag of bulkWriteTags(dependent)) tags.add(tag)
    }
  }
  return { tags: [...tags], everything: false, tables: writes.map(normalizeTable) }
}

/**
 * The column-value tag of every value a known-row INSERT or UPDATE sets on a pinnable column, and
 * the column-any tag where the value cannot be named (an expression, DEFAULT, NULL, a column the
 * INSERT leaves to its default, a value that is not canonical for the column, or a column that is
 * not pinnable here: another ORM may still pin it).
 */
function valueTags(
  shape: StatementShape,
  table: TableInfo,
  params: readonly unknown[],
  rows: readonly RowKey[],
  tags: Set<string>,
): void {
  if (shape.kind === 'update') {
    const { assigned, values } = shape
    if (assigned === undefined || values === undefined) {
      for (const column of table.columns) tags.add(columnAnyTag(table.name, column))
      return
    }
    for (let i = 0; i < assigned.length; i++) valueTag(table, assigned[i]!, values[i], params, tags)
    return
  }
  if (shape.kind !== 'insert') return
  // The inserted keys are known exactly (bound, RETURNING, insertId): their column-value tags.
  const keys = new Set(table.primary.map((c) => c.name.toLowerCase()))
  for (const row of rows)
    for (const [column, value] of Object.entries(row)) tags.add(columnTag(table.name, column, value))
  const { columns, tuples } = shape
  if (columns === undefined || tuples === undefined) {
    for (const column of table.columns)
      if (!keys.has(column.toLowerCase())) tags.add(columnAnyTag(table.name, column))
    return
  }
  const named = new Set(columns.map((c) => c.toLowerCase()))
  for (const column of table.columns) {
    const lower = column.toLowerCase()
    if (!named.has(lower) && !keys.has(lower)) tags.add(columnAnyTag(table.name, column))
  }
  for (const tuple of tuples) {
    for (let i = 0; i < columns.length; i++) {
      if (!keys.has(columns[i]!.toLowerCase())) valueTag(table, columns[i]!, tuple[i], params, tags)
    }
  }
}

function valueTag(
  table: TableInfo,
  column: string,
  value: InsertValue | undefined,
  params: readonly unknown[],
  tags: Set<string>,
): void {
  const kind = table.pinnable.get(column.toLowerCase())
  const pinned =
    kind !== undefined && (value?.kind === 'param' || value?.kind === 'literal')
      ? pinValue(kind, operandValue(value, params))
      : undefined
  tags.add(pinned === undefined ? columnAnyTag(table.name, column) : columnTag(table.name, column, pinned))
}

function cascades(shape: StatementShape | undefined, table: string, schema: SchemaIndex): string[] {
  switch (shape?.kind) {
    case 'insert':
      // A plain insert changes no other table; REPLACE / upserts may delete or rewrite keys.
      return shape.conflict === 'update'
        ? [...schema.deleteCascades(table), ...schema.updateCascades(table, undefined)]
        : []
    case 'update':
      return schema.updateCascades(table, shape.assigned)
    case 'delete':
      return schema.deleteCascades(table)
    default:
      return [...schema.deleteCascades(table), ...schema.updateCascades(table, undefined)]
  }
}

/** The primary keys of every row the statement changed, when they can be named exactly. */
function rowsWritten(
  shape: StatementShape,
  table: TableInfo,
  params: readonly unknown[],
  raw: unknown,
): RowKey[] | undefined {
  switch (shape.kind) {
    case 'update': {
      if (shape.rows === undefined || shape.assigned === undefined) return undefined
      const keys = table.primary.map((c) => c.name.toLowerCase())
      // Changing a key moves the row: the old key's lookups would not be reached by the new tag.
      if (shape.assigned.some((c) => keys.includes(c.toLowerCase()))) return undefined
      return rowsOfBranches(shape.rows, table.primary, params)
    }
    case 'delete':
      return shape.rows === undefined ? undefined : rowsOfBranches(shape.rows, table.primary, params)
    case 'insert':
      return shape.conflict === 'update' ? undefined : rowsInserted(shape, table, params, raw)
    default:
      return undefined
  }
}

function rowsInserted(
  shape: Extract<StatementShape, { kind: 'insert' }>,
  table: TableInfo,
  params: readonly unknown[],
  raw: unknown,
): RowKey[] | undefined {
  if (table.primary.length === 0) return undefined
  // PostgreSQL: RETURNING lists exactly the rows inserted, generated keys included.
  const returned = returningRows(raw, table)
  if (returned !== undefined) return returned
  if (shape.tuples === undefined || shape.tuples.length > MAX_ROWS) return undefined
  const rows: RowKey[] = []
  for (const tuple of shape.tuples) {
    const row: RowKey = {}
    for (const column of table.primary) {
      const at = shape.columns?.findIndex((c) => c.toLowerCase() === column.name.toLowerCase()) ?? -1
      const value: InsertValue =
        shape.columns === undefined ? { kind: 'expression' } : at === -1 ? { kind: 'default' } : tuple[at]!
      let key: string | undefined
      if (value.kind === 'param' || value.kind === 'literal')
        key = canonicalKey(column, operandValue(value, params))
      else if (value.kind === 'default' && column.generated) key = generatedKey(shape, table, raw)
      if (key === undefined) return undefined
      row[column.name] = key
    }
    rows.push(row)
  }
  return rows
}

function returningRows(raw: unknown, table: TableInfo): RowKey[] | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const result = raw as { rows?: unknown; rowCount?: unknown; command?: unknown }
  // Without RETURNING, node-postgres still reports `rows: []`; only a full list names the rows.
  if (result.command !== 'INSERT' || !Array.isArray(result.rows) || result.rows.length !== result.rowCount) {
    return undefined
  }
  const rows: RowKey[] = []
  for (const record of result.rows) {
    if (typeof record !== 'object' || record === null) return undefined
    const row: RowKey = {}
    for (const column of table.primary) {
      const key = canonicalKey(column, (record as Record<string, unknown>)[column.name])
      if (key === undefined) return undefined
      row[column.name] = key
    }
    rows.push(row)
  }
  return rows
}

/**
 * The key the database generated for a single-row insert: MySQL's insertId, SQLite's
 * lastInsertRowid. Multi-row inserts and ignored conflicts cannot be named this way.
 */
function generatedKey(
  shape: Extract<StatementShape, { kind: 'insert' }>,
  table: TableInfo,
  raw: unknown,
): string | undefined {
  const column = table.primary[0]!
  if (table.primary.length !== 1 || shape.tuples?.length !== 1) return undefined
  if (typeof raw === 'object' && raw !== null && 'insertId' in raw) {
    const { insertId, affectedRows } = raw as { insertId: unknown; affectedRows?: unknown }
    if (affectedRows !== 1) return undefined
    return canonicalKey(column, insertId)
  }
  // A SQLite INSERT OR IGNORE that ignored leaves lastInsertRowid at an older row.
  if ((typeof raw === 'number' || typeof raw === 'bigint') && shape.conflict === 'none') {
    return canonicalKey(column, raw)
  }
  return undefined
}
