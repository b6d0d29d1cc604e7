import {
  bulkWriteTags,
  columnAnyTag,
  columnTag,
  memberTag,
  normalizeTable,
  rowTag,
  tableTag,
  unnamedMemberTag,
} from '@ormcache/core/adapter'
import { leftValues } from './left-values.js'
import { isPinnableType, nameable } from './values.js'

export interface RelationInfo {
  oid: number
  schema: string
  name: string
  /** Column name → type oid, in the relation's order. */
  columns: ReadonlyMap<string, number>
  /** Primary-key column names; empty when the table has none (its rows cannot be named). */
  primaryKey: readonly string[]
  /** pgoutput's replica identity: which old values UPDATE and DELETE carry. */
  identity: 'default' | 'nothing' | 'full' | 'index'
}

type Row = Record<string, unknown> | null | undefined

interface TableChanges {
  table: string
  rows: number
  collapsed: boolean
  tags: Set<string>
}

/**
 * The tags one committed transaction bumps, built like the adapters' write effects
 * (docs/design.md §3 and "Precision"): per written table its table tag; the row tag of every row
 * it names by primary key (old and new key when an update moves it), or the bulk tag when a row
 * cannot be named; for inserts and updates the column-value tag of every column value written
 * (the column-any tag where the value cannot be named); for updates and deletes the old value of
 * every column that changed (the column-left tag where it is unknown, left-values.ts); for updates
 * the member tag of every pinnable column's new value. A table with more than `maxRows` changed
 * rows collapses to its table and bulk tags, which every read of the table depends on.
 */
export class TransactionTags {
  private readonly tables = new Map<string, TableChanges>()
  everything = false
  changes = 0

  constructor(private readonly maxRows: number) {}

  insert(relation: RelationInfo, row: Row): void {
    const changes = this.begin(relation)
    if (changes === undefined) return
    this.row(changes, relation, row)
    this.values(changes, relation, row, undefined)
  }

  update(relation: RelationInfo, key: Row, old: Row, row: Row): void {
    const changes = this.begin(relation)
    if (changes === undefined) return
    // The old key: the old row (REPLICA IDENTITY FULL), the key tuple PostgreSQL sends when the
    // identity changed, or, with the default identity (the primary key) and no key tuple, the new
    // row's key, since the key did not change. Otherwise the old row is unknown: bulk tag.
    const before = old ?? key
    if (before != null) this.row(changes, relation, before)
    else if (relation.identity !== 'default') this.bulk(changes)
    this.row(changes, relation, row)
    this.values(changes, relation, row, old)
    leftValues(changes.tags, changes.table, relation, row, old, key)
    this.kept(changes, relation, row)
  }

  delete(relation: RelationInfo, key: Row, old: Row): void {
    const changes = this.begin(relation)
    if (changes === undefined) return
    this.row(changes, relation, old ?? key)
    leftValues(changes.tags, changes.table, relation, undefined, old, key)
  }

  truncate(relation: RelationInfo): void {
    const changes = this.begin(relation)
    if (changes !== undefined) this.collapse(changes)
  }

  /** Every tag to bump, deduplicated. */
  tags(): string[] {
    const all = new Set<string>()
    for (const changes of this.tables.values()) for (const tag of changes.tags) all.add(tag)
    return [...all]
  }

  /** Tables that collapsed to table-level tags. */
  collapsedTables(): number {
    let count = 0
    for (const changes of this.tables.values()) if (changes.collapsed) count += 1
    return count
  }

  private begin(relation: RelationInfo): TableChanges | undefined {
    this.changes += 1
    const table = normalizeTable(relation.name)
    let changes = this.tables.get(table)
    if (changes === undefined) {
      changes = { table: relation.name, rows: 0, collapsed: false, tags: new Set([tableTag(relation.name)]) }
      this.tables.set(table, changes)
    }
    if (changes.collapsed) return undefined
    changes.rows += 1
    if (changes.rows > this.maxRows) {
      this.collapse(changes)
      return undefined
    }
    return changes
  }

  private collapse(changes: TableChanges): void {
    changes.collapsed = true
    changes.tags = new Set(bulkWriteTags(changes.table))
  }

  private bulk(changes: TableChanges): void {
    for (const tag of bulkWriteTags(changes.table)) changes.tags.add(tag)
  }

  private row(changes: TableChanges, relation: RelationInfo, row: Row): void {
    const key: Record<string, unknown> = {}
    for (const column of relation.primaryKey) {
      const value = row == null ? undefined : nameable(relation.columns.get(column) ?? 0, row[column])
      if (value === undefined || value === null) {
        this.bulk(changes)
        return
      }
      key[column] = value
    }
    if (relation.primaryKey.length === 0) this.bulk(changes)
    else changes.tags.add(rowTag(changes.table, key))
  }

  /**
   * The member tag of every pinnable column's new value (docs/design.md, "Lists without row
   * tags"). pgoutput does not say which columns an update set, so every one is named; for those it
   * left alone the new value is the value the row kept. A value it did not resend (TOASTed, which
   * integers and booleans never are) is unnamed.
   */
  private kept(changes: TableChanges, relation: RelationInfo, row: Row): void {
    for (const [column, type] of relation.columns) {
      if (!isPinnableType(type)) continue
      const value = row == null ? undefined : nameable(type, row[column])
      changes.tags.add(
        value === undefined ? unnamedMemberTag(changes.table) : memberTag(changes.table, column, value),
      )
    }
  }

  private values(changes: TableChanges, relation: RelationInfo, row: Row, old: Row): void {
    for (const [column, type] of relation.columns) {
      const text = row?.[column]
      // undefined: an unchanged TOASTed value PostgreSQL did not resend; the update did not set it.
      if (text === undefined) continue
      // With the old row (REPLICA IDENTITY FULL), columns the update left alone move no row.
      if (old != null && old[column] === text) continue
      const value = nameable(type, text)
      changes.tags.add(
        value === undefined ? columnAnyTag(changes.table, column) : columnTag(changes.table, column, value),
      )
    }
  }
}
