import { AdapterError, type AfterLoad } from '@ormcache/core'
import {
  bulkTag,
  columnAnyTag,
  columnLeftTag,
  columnTag,
  memberTag,
  normalizeTable,
  rowTag,
  type SqlDialect,
  unnamedMemberTag,
} from '@ormcache/core/adapter'
import type { SchemaIndex, TableInfo } from '../schema/entity-schema.js'
import { canonicalKey, operandValue, type RowKey } from '../schema/row-keys.js'
import { type ListShape, listShape } from '../sql/list-shape.js'

export interface PreciseRead {
  /** Pre-load tags: pins, column-any tags of pinned and joined columns, bulk tags. */
  tags: string[]
  /**
   * Row tags of the loaded rows and foreign-key tags of the loaded parents, guarded by table
   * tags; none for a list on member tags that joins nothing.
   */
  afterLoad?: AfterLoad
  label: string
}

/** Where one table's row key and a pinned column are found in the raw rows. */
interface Part {
  table: TableInfo
  /** Primary-key column → output column name. */
  key: [string, string][]
}

/**
 * Precise dependencies of a SELECT (docs/design.md, "Precision" and "Relations loaded for
 * parents"): a list filtered only by equality pins on integer/boolean columns of its table,
 * with LEFT JOINs that load the rows of another table whose integer/boolean column equals a
 * column of an earlier table, and no paging. Undefined when the statement does not qualify; it
 * then depends on its tables' tags as before.
 */
export function preciseRead(
  sql: string,
  params: readonly unknown[],
  dialect: SqlDialect,
  schema: SchemaIndex,
  members = false,
): PreciseRead | undefined {
  const shape = listShape(sql, dialect)
  if (shape === undefined) return undefined
  const root = schema.table(shape.table)
  if (root === undefined || root.tree) return undefined
  const tags = new Set<string>([bulkTag(root.name)])
  for (const branch of shape.pins) {
    // On member tags (docs/design.md, "Lists without row tags"): one pinned column per branch,
    // not a boolean where another is pinned, names the rows the branch holds.
    let keyed: string | undefined
    for (const [name] of branch)
      if (keyed === undefined || root.pinnable.get(keyed.toLowerCase()) === 'boolean') keyed = name
    for (const [name, operands] of branch) {
      const kind = root.pinnable.get(name.toLowerCase())
      if (kind === undefined) return undefined
      tags.add(columnAnyTag(root.name, name))
      if (members) tags.add(columnLeftTag(root.name, name))
      for (const operand of operands) {
        const value = pinValue(kind, operandValue(operand, params))
        if (value === undefined) return undefined
        tags.add(columnTag(root.name, name, value))
        if (members && name === keyed) tags.add(memberTag(root.name, name, value))
      }
    }
  }
  if (members) tags.add(unnamedMemberTag(root.name))
  const parts = new Map<string, Part>()
  /** Junction tables: their table tags guard the after-load tags too. */
  const extraTables = new Set<string>()
  const rootPart = part(shape, shape.alias, root)
  if (rootPart === undefined) return undefined
  parts.set(shape.alias, rootPart)
  const joins: Join[] = []
  for (let j = 0; j < shape.joins.length; j++) {
    const join = shape.joins[j]!
    const table = schema.table(join.table)
    // A join back to the root table would guard the table the root list also depends on.
    if (table === undefined || table.tree || normalizeTable(table.name) === normalizeTable(root.name))
      return undefined
    const pair = junctionPair(shape, j, table, root, schema)
    if (pair !== undefined) {
      parts.set(shape.joins[j + 1]!.alias, pair.child)
      joins.push(pair)
      tags.add(bulkTag(table.name))
      tags.add(columnAnyTag(table.name, join.column))
      tags.add(bulkTag(pair.child.table.name))
      extraTables.add(table.name)
      j++
      continue
    }
    const kind = table.pinnable.get(join.column.toLowerCase())
    const parentOutput = shape.outputs.get(`${join.parentAlias}.${join.parentColumn.toLowerCase()}`)
    const child = part(shape, join.alias, table)
    if (kind === undefined || parentOutput === undefined || child === undefined) return undefined
    parts.set(join.alias, child)
    joins.push({ child, column: join.column, kind, parentOutput })
    tags.add(bulkTag(table.name))
    tags.add(columnAnyTag(table.name, join.column))
    if (members) {
      // The children of a parent are the rows holding its value: a one-pin list.
      tags.add(columnLeftTag(table.name, join.column))
      tags.add(unnamedMemberTag(table.name))
    }
  }
  // On member tags the root's rows need no row tags, so its table guards nothing.
  const guarded = [...parts.values()].filter((p) => !members || p !== rootPart).map((p) => p.table.name)
  const tables = [...new Set([...guarded, ...extraTables])]
  if (tables.length === 0) return { tags: [...tags], label: root.name }
  return {
    tags: [...tags],
    label: root.name,
    afterLoad: {
      tables,
      tags: (records) => {
        if (!Array.isArray(records)) throw malformed('the result is not a list of rows')
        const out = new Set<string>()
        // A joined result repeats each parent once per child: every row is still checked, but
        // the tag of a (part, key) already tagged is not built again.
        const seen = new Set<string>()
        const first = (id: string): boolean => {
          if (seen.has(id)) return false
          seen.add(id)
          return true
        }
        for (const record of records) {
          if (typeof record !== 'object' || record === null) throw malformed('a row is not an object')
          const raw = record as Record<string, unknown>
          if (!members) {
            const key = rowKey(rootPart, raw)
            if (key === undefined) throw malformed('a row lacks its key')
            if (first(`r|${keyId(key)}`)) out.add(rowTag(root.name, key))
          }
          for (let j = 0; j < joins.length; j++) {
            const join = joins[j]!
            const parent = raw[join.parentOutput]
            // A null parent value (or a parent row the LEFT JOIN did not find) matches no row.
            const value = parent === null || parent === undefined ? undefined : pinValue(join.kind, parent)
            if (value === undefined && parent !== null && parent !== undefined)
              throw malformed('a joined value is not canonical')
            if (value !== undefined && first(`p${j}|${value}`)) {
              out.add(columnTag(join.junction?.table.name ?? join.child.table.name, join.column, value))
              if (members && join.junction === undefined)
                out.add(memberTag(join.child.table.name, join.column, value))
            }
            // On member tags a child needs no row tag (a junction's children keep theirs).
            const child = members && join.junction === undefined ? undefined : rowKey(join.child, raw)
            if (child !== undefined && first(`c${j}|${keyId(child)}`))
              out.add(rowTag(join.child.table.name, child))
            // The junction row linking this parent to this child: its key is both halves.
            if (join.junction !== undefined && child !== undefined && value !== undefined) {
              const { table, column, other } = join.junction
              if (first(`j${j}|${value}|${keyId(child)}`))
                out.add(rowTag(table.name, { [column]: value, [other]: child[join.junction.childKey] }))
            }
          }
        }
        return [...out]
      },
    },
  }
}

/**
 * One LEFT JOIN loading rows for the rows of an earlier alias. With `junction`, the pair
 * `LEFT JOIN J j ON j.column = p.d LEFT JOIN U u ON u.k = j.other`: `column` is then J's, and
 * `child` is U (docs/design.md, "Many-to-many relations").
 */
interface Join {
  child: Part
  column: string
  kind: 'integer' | 'boolean'
  parentOutput: string
  junction?: { table: TableInfo; column: string; other: string; childKey: string }
}

/**
 * The many-to-many pair starting at `shape.joins[j]`, or undefined: a junction TypeORM created
 * for a `@JoinTable` whose key is exactly its two integer columns, each with a foreign key, joined
 * on one of them to a selected column of an earlier alias, directly followed by the join of the
 * table the other column references, on that column, which is the target's whole (integer) key.
 * The junction's columns are not selected, but each loaded target row *is* a junction row's other
 * half: the foreign key guarantees that every junction row names an existing target row.
 */
function junctionPair(
  shape: ListShape,
  j: number,
  table: TableInfo,
  root: TableInfo,
  schema: SchemaIndex,
): (Join & { junction: NonNullable<Join['junction']> }) | undefined {
  const join = shape.joins[j]!
  const next = shape.joins[j + 1]
  if (table.junction === undefined || next === undefined || next.parentAlias !== join.alias) return undefined
  const keys = table.primary
  if (keys.length !== 2 || keys.some((c) => c.kind !== 'integer')) return undefined
  const column = keys.find((c) => c.name.toLowerCase() === join.column.toLowerCase())
  const other = keys.find((c) => c !== column)
  if (
    column === undefined ||
    other === undefined ||
    other.name.toLowerCase() !== next.parentColumn.toLowerCase()
  )
    return undefined
  const kind = table.pinnable.get(column.name.toLowerCase())
  const parentOutput = shape.outputs.get(`${join.parentAlias}.${join.parentColumn.toLowerCase()}`)
  const target = schema.table(next.table)
  const reference = table.junction.get(other.name.toLowerCase())
  if (kind !== 'integer' || parentOutput === undefined || target === undefined || reference === undefined)
    return undefined
  if (target.tree || normalizeTable(target.name) === normalizeTable(root.name)) return undefined
  if (normalizeTable(reference.table) !== normalizeTable(target.name)) return undefined
  const targetKey = target.primary
  if (targetKey.length !== 1 || targetKey[0]!.name.toLowerCase() !== reference.column.toLowerCase())
    return undefined
  if (next.column.toLowerCase() !== reference.column.toLowerCase()) return undefined
  const child = part(shape, next.alias, target)
  if (child === undefined) return undefined
  return {
    child,
    column: column.name,
    kind,
    parentOutput,
    junction: { table, column: column.name, other: other.name, childKey: targetKey[0]!.name },
  }
}

function part(shape: ListShape, alias: string, table: TableInfo): Part | undefined {
  if (table.primary.length === 0 || table.primary.some((c) => c.kind !== 'integer')) return undefined
  const key: [string, string][] = []
  for (const column of table.primary) {
    const output = shape.outputs.get(`${alias}.${column.name.toLowerCase()}`)
    if (output === undefined) return undefined
    key.push([column.name, output])
  }
  return { table, key }
}

/** The row key of `part` in a raw row; undefined when the LEFT JOIN found no row (all null). */
function rowKey(part: Part, raw: Record<string, unknown>): RowKey | undefined {
  const key: RowKey = {}
  let missing = 0
  for (const [column, output] of part.key) {
    const value = raw[output]
    if (value === null) {
      missing++
      continue
    }
    const canonical = canonicalKey({ name: column, kind: 'integer', generated: false }, value)
    if (canonical === undefined) throw malformed('a key value is not canonical')
    key[column] = canonical
  }
  if (missing === 0) return key
  if (missing === part.key.length) return undefined
  throw malformed('a key is partly null')
}

/** Canonical integer strings (rowKey) joined by a character none of them contains. */
function keyId(key: RowKey): string {
  let id = ''
  for (const column in key) id += `${key[column]},`
  return id
}

/**
 * A pin value both ORMs tag alike, or undefined when equality on it is not value equality. Writes
 * use it too (write-tags.ts): a value the database would coerce to something else (`2.5` into an
 * integer column, `'true'`) is not canonical and falls back to the column-any tag.
 */
export function pinValue(kind: 'integer' | 'boolean', value: unknown): string | boolean | undefined {
  if (kind === 'integer') return canonicalKey({ name: '', kind: 'integer', generated: false }, value)
  if (value === true || value === 1) return true
  if (value === false || value === 0) return false
  return undefined
}

function malformed(message: string): AdapterError {
  return new AdapterError('after-load', new TypeError(message))
}
