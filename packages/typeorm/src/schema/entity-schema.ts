import { normalizeTable } from '@ormcache/core/adapter'
import type { DataSource, EntityMetadata } from 'typeorm'

/** How a primary key column's values can be turned into row tags that both sides agree on. */
export type KeyKind =
  /** Integers: compared numerically by every database, so '7', 7 and 7n are one row. */
  | 'integer'
  /** Anything else (text, uuid, …): collations and casts make textual equality unreliable. */
  | 'other'

export interface KeyColumn {
  name: string
  kind: KeyKind
  /** Filled by the database on insert (auto-increment / serial / rowid). */
  generated: boolean
}

export interface TableInfo {
  name: string
  primary: KeyColumn[]
  /** Every database column: a write to known rows that cannot name new values bumps their column-any tags. */
  columns: string[]
  /**
   * Integer and boolean columns (lower case → database name): equality on them is equality of
   * the normalized value, so lists pinning them can depend on column-value tags.
   */
  pinnable: Map<string, 'integer' | 'boolean'>
  /** Tree tables: TypeORM rewrites other rows (nested-set bounds, paths) on every write. */
  tree: boolean
  /** Tables whose rows the database changes when a row here is deleted (CASCADE / SET NULL / SET DEFAULT). */
  onDelete: Set<string>
  /** Referenced column (lower case) → tables the database changes when it is updated. */
  onUpdate: Map<string, Set<string>>
  /**
   * A junction table TypeORM created for a `@JoinTable`, with a foreign key on each of its
   * columns: column (lower case) → the table and column it references. Every junction row then
   * names an existing row on both sides (docs/design.md, "Many-to-many relations").
   */
  junction?: Map<string, { table: string; column: string }>
}

const INTEGER_TYPES = new Set([
  'int',
  'int2',
  'int4',
  'int8',
  'integer',
  'smallint',
  'mediumint',
  'bigint',
  'tinyint',
  'serial',
  'smallserial',
  'bigserial',
  'unsigned big int',
])

/** The entity metadata of one DataSource, indexed by (normalized) table name. */
export class SchemaIndex {
  private readonly tables = new Map<string, TableInfo>()

  constructor(metadatas: readonly EntityMetadata[]) {
    for (const metadata of metadatas) {
      const name = normalizeTable(metadata.tableName)
      this.tables.set(name, {
        name: metadata.tableName,
        primary: metadata.primaryColumns.map((column) => ({
          name: column.databaseName,
          kind: isIntegerType(column.type) ? 'integer' : 'other',
          generated: column.isGenerated && column.generationStrategy !== 'uuid',
        })),
        columns: metadata.columns.map((column) => column.databaseName),
        pinnable: new Map(
          metadata.columns.flatMap((column) => {
            const kind = isIntegerType(column.type)
              ? 'integer'
              : isBooleanType(column.type)
                ? 'boolean'
                : undefined
            return kind === undefined ? [] : [[column.databaseName.toLowerCase(), kind] as const]
          }),
        ),
        tree: metadata.treeType !== undefined,
        onDelete: new Set(),
        onUpdate: new Map(),
        junction: metadata.isJunction ? junctionReferences(metadata) : undefined,
      })
    }
    for (const metadata of metadatas) {
      const dependent = metadata.tableName
      for (const fk of metadata.foreignKeys) {
        const parent = this.tables.get(normalizeTable(fk.referencedEntityMetadata.tableName))
        if (parent === undefined) continue
        if (changesRows(fk.onDelete)) parent.onDelete.add(dependent)
        if (changesRows(fk.onUpdate)) {
          for (const column of fk.referencedColumns) {
            const key = column.databaseName.toLowerCase()
            const set = parent.onUpdate.get(key) ?? new Set()
            set.add(dependent)
            parent.onUpdate.set(key, set)
          }
        }
      }
    }
  }

  table(name: string): TableInfo | undefined {
    return this.tables.get(normalizeTable(name))
  }

  /** Every table the database may change, transitively, when rows of `table` are deleted. */
  deleteCascades(table: string): string[] {
    return this.closure(table, (info) => info.onDelete)
  }

  /** Tables changed by the database when `columns` of `table` are updated (undefined = any column). */
  updateCascades(table: string, columns: readonly string[] | undefined): string[] {
    const info = this.table(table)
    if (info === undefined) return []
    const direct = new Set<string>()
    for (const [column, dependents] of info.onUpdate) {
      if (columns === undefined || columns.some((c) => c.toLowerCase() === column)) {
        for (const d of dependents) direct.add(d)
      }
    }
    const out = new Set<string>()
    // A cascaded update rewrites the dependents' foreign key columns, which may cascade again;
    // a cascaded SET NULL may too. Follow both edges to be safe.
    for (const d of direct) {
      out.add(d)
      for (const t of this.closure(
        d,
        (i) => new Set([...i.onDelete, ...[...i.onUpdate.values()].flatMap((s) => [...s])]),
      ))
        out.add(t)
    }
    return [...out]
  }

  private closure(table: string, edges: (info: TableInfo) => Set<string>): string[] {
    const seen = new Set<string>()
    const queue = [table]
    while (queue.length > 0) {
      const info = this.table(queue.pop()!)
      if (info === undefined) continue
      for (const next of edges(info)) {
        const key = normalizeTable(next)
        if (key === normalizeTable(table) || seen.has(key)) continue
        seen.add(key)
        queue.push(next)
      }
    }
    return [...seen]
  }
}

/** Each column of a junction with its single-column foreign key, or undefined when one lacks it. */
function junctionReferences(
  metadata: EntityMetadata,
): Map<string, { table: string; column: string }> | undefined {
  const references = new Map<string, { table: string; column: string }>()
  for (const fk of metadata.foreignKeys) {
    if (fk.columns.length !== 1 || fk.referencedColumns.length !== 1) return undefined
    references.set(fk.columns[0]!.databaseName.toLowerCase(), {
      table: fk.referencedEntityMetadata.tableName,
      column: fk.referencedColumns[0]!.databaseName,
    })
  }
  const columns = metadata.columns.map((c) => c.databaseName.toLowerCase())
  return columns.length === 2 && columns.every((c) => references.has(c)) ? references : undefined
}

function changesRows(action: string | undefined): boolean {
  return action === 'CASCADE' || action === 'SET NULL' || action === 'SET DEFAULT'
}

function isIntegerType(type: unknown): boolean {
  if (type === Number) return true
  return typeof type === 'string' && INTEGER_TYPES.has(type.toLowerCase())
}

function isBooleanType(type: unknown): boolean {
  if (type === Boolean) return true
  return typeof type === 'string' && (type.toLowerCase() === 'boolean' || type.toLowerCase() === 'bool')
}

const indexes = new WeakMap<DataSource, SchemaIndex>()

/** The index of `dataSource`'s entities; built once the DataSource has its metadata. */
export function schemaOf(dataSource: DataSource): SchemaIndex {
  let index = indexes.get(dataSource)
  if (index === undefined) {
    index = new SchemaIndex(dataSource.entityMetadatas)
    if (dataSource.isInitialized) indexes.set(dataSource, index)
  }
  return index
}
