import type { Cache, WriteIntent } from '@ormcache/core'
import {
  bulkTag,
  memberTag,
  normalizeTable,
  rowTag,
  type SqlToken,
  tokenizeSql,
  unnamedMemberTag,
} from '@ormcache/core/adapter'
import type { DataSource, EntityMetadata, QueryRunner } from 'typeorm'
import { pinValue } from '../read-deps/precise-reads.js'
import { type KeyColumn, schemaOf, type TableInfo } from '../schema/entity-schema.js'
import { canonicalKey, rowsOfBranches } from '../schema/row-keys.js'
import { TextMemo } from '../sql/memo.js'
import type { Branch } from '../sql/predicate.js'
import { statementShape } from '../sql/statements.js'
import { stateOf } from '../transactions.js'
import { type LookupColumn, type PrimaryKeyLookup, primaryKeyLookup } from './lookup.js'
import { MARKER, stripAdded, type WidenedUpdate, widenReturning } from './returning.js'

/** What write-through needs from the read side: the key and tags a lookup is cached under. */
export interface WriteThroughHost {
  readonly cache: Cache
  readonly ttl: number
  entryOf(sql: string, parameters: readonly unknown[]): { key: string; tags: readonly string[] } | undefined
}

/** The effect of the executed UPDATE, as the write tracker computed it. */
export interface ExecutedWrite {
  tags: readonly string[]
  everything: boolean
}

/**
 * A write-through begun before its UPDATE was sent, handed to the write tracker on the same
 * QueryRunner: the tracker commits it (with the fill) instead of invalidating plainly.
 */
export interface PendingWriteThrough {
  /** The exact SQL sent (with the widened RETURNING): afterQuery of that statement takes it. */
  sql: string
  commit(write: ExecutedWrite, raw: unknown): Promise<unknown>
}

type QueryFn = (sql: string, parameters?: unknown[], useStructuredResult?: boolean) => Promise<unknown>

const installed = new WeakSet<object>()

/**
 * TypeORM write-through (docs/design.md §4): an UPDATE of one row by primary key, outside a
 * transaction, on PostgreSQL, gets its RETURNING widened to the columns of that entity's
 * `findOneBy({ pk })`, and the row the database returned fills that lookup's entry under the
 * guarded protocol core's `beginWrite` implements (the same one Prisma's write-through uses).
 * Every QueryRunner the driver creates is wrapped; other statements pass through untouched.
 */
export function installWriteThrough(dataSource: DataSource, host: WriteThroughHost): void {
  // SQLite drivers run an UPDATE with RETURNING as a reader (rows instead of changes): the
  // result TypeORM sees would change. MySQL/MariaDB have no UPDATE … RETURNING.
  if (dataSource.options.type !== 'postgres') return
  const driver = dataSource.driver as { createQueryRunner: (mode: unknown) => QueryRunner }
  if (installed.has(driver)) return
  installed.add(driver)
  const create = driver.createQueryRunner.bind(driver)
  driver.createQueryRunner = (mode) => {
    const runner = create(mode)
    wrapQuery(dataSource, host, runner)
    return runner
  }
}

function wrapQuery(dataSource: DataSource, host: WriteThroughHost, runner: QueryRunner): void {
  const original = runner.query as QueryFn
  const wrapped: QueryFn = function (this: QueryRunner, sql, parameters, useStructuredResult) {
    let plan: Plan | undefined
    try {
      if (typeof sql === 'string' && /^\s*UPDATE\b/i.test(sql) && !runner.isTransactionActive)
        plan = planFor(dataSource, host, sql, parameters ?? [])
    } catch (error) {
      // An analysis bug must not fail the write: it runs as TypeORM wrote it, invalidated as before.
      host.cache.reportError(error, 'typeorm:write-through')
    }
    if (plan === undefined) return original.call(this ?? runner, sql, parameters, useStructuredResult)
    return writeThrough(host, runner, original, plan, parameters, useStructuredResult)
  }
  ;(runner as { query: QueryFn }).query = wrapped
}

interface Plan {
  /** The statement as TypeORM wrote it. */
  sql: string
  widened: WidenedUpdate
  fillTags: string[]
  build(raw: unknown): { key: string; value: unknown; ttl: number } | undefined
  /**
   * The write's tags with its unnamed-member tag replaced by the member tags of what the row
   * kept, when the widened RETURNING shows every pinnable column it did not set (docs/design.md,
   * "Lists without row tags"): the statement changed exactly one row, so u:T stood for it alone.
   */
  namingKept(tags: readonly string[], raw: unknown): readonly string[]
}

async function writeThrough(
  host: WriteThroughHost,
  runner: QueryRunner,
  original: QueryFn,
  plan: Plan,
  parameters: unknown[] | undefined,
  useStructuredResult: boolean | undefined,
): Promise<unknown> {
  let intent: WriteIntent
  try {
    intent = await host.cache.beginWrite(plan.fillTags)
  } catch (error) {
    host.cache.reportError(error, 'typeorm:write-through')
    return original.call(runner, plan.sql, parameters, useStructuredResult)
  }
  const state = stateOf(runner)
  const pending: PendingWriteThrough = {
    sql: plan.widened.sql,
    commit: (write, raw) => {
      let fill: ReturnType<Plan['build']>
      try {
        // The write must bump the row tag the fill is guarded by (it does unless the analysis
        // of the statement gave up: then nothing is filled).
        const guarded = !write.everything && write.tags.includes(plan.fillTags[1]!)
        // A transaction opened with raw `BEGIN` is invisible to TypeORM: only a connection that
        // is idle after the statement proves it committed (node-postgres: ReadyForQuery 'I').
        const committed = transactionStatus(runner) === 'I'
        fill = raw === undefined || !guarded || !committed ? undefined : plan.build(raw)
      } catch (error) {
        host.cache.reportError(error, 'typeorm:write-through')
      }
      return intent.commit({
        invalidate: plan.namingKept(write.tags, raw),
        everything: write.everything,
        ...(fill === undefined ? {} : { fill }),
      })
    },
  }
  state.writeThrough = pending
  try {
    const result = (await original.call(runner, plan.widened.sql, parameters, true)) as {
      records?: unknown
      raw?: unknown
    }
    stripAdded(result.records, plan.widened)
    return useStructuredResult ? result : result.raw
  } finally {
    if (state.writeThrough === pending) state.writeThrough = undefined
  }
}

/**
 * The write-through plan of `sql`, or undefined. It qualifies when the statement is a plain
 * single-table UPDATE whose WHERE names exactly one row by an integer primary key that it does
 * not assign, of a table that exactly one entity maps (no single-table inheritance, no tree) and
 * whose `findOneBy({ pk })` rows can be rebuilt from the returned row (lookup.ts).
 */
function planFor(
  dataSource: DataSource,
  host: WriteThroughHost,
  sql: string,
  parameters: readonly unknown[],
): Plan | undefined {
  const text = textPlanOf(dataSource, sql)
  if (text === undefined) return undefined
  const { table, key, metadata } = text
  const rows = rowsOfBranches(text.rows, table.primary, parameters)
  if (rows?.length !== 1) return undefined
  const row = rows[0]!
  const lookup = primaryKeyLookup(dataSource, metadata, Number(row[key.name]), 'postgres')
  if (lookup === undefined) return undefined
  const at = lookup.columns.findIndex((c) => c.column === key.name)
  if (at === -1) return undefined
  const widened = text.widen(lookup.columns)
  if (widened === undefined) return undefined
  const fillTags = [bulkTag(table.name), rowTag(table.name, row)]
  return {
    sql,
    widened,
    fillTags,
    build(raw) {
      const returned = onlyRow(raw)
      if (returned === undefined) return undefined
      const value = returned[`${MARKER}${at}`]
      if (canonicalKey(key, value) !== row[key.name]) return undefined
      const final = primaryKeyLookup(dataSource, metadata, value, 'postgres')
      // Same text, and the key bound as the database returned it (no transformer in between).
      if (final === undefined || final.sql !== lookup.sql) return undefined
      if (final.parameters.length !== 1 || final.parameters[0] !== value) return undefined
      const record = rebuild(final, returned)
      if (record === undefined) return undefined
      const entry = host.entryOf(final.sql, final.parameters)
      // The read must be cached under exactly the tags this write snapshotted and guards.
      if (entry === undefined || !sameTags(entry.tags, fillTags)) return undefined
      return { key: entry.key, value: [record], ttl: host.ttl }
    },
    namingKept(tags, raw) {
      const returned = onlyRow(raw)
      if (returned === undefined) return tags
      const kept: string[] = []
      for (const [column, kind] of table.pinnable) {
        if (text.assigned.has(column)) continue
        const at = lookup.columns.findIndex((c) => c.column.toLowerCase() === column)
        const value = at === -1 ? undefined : returned[`${MARKER}${at}`]
        const named = value === null ? null : pinValue(kind, value)
        if (named === undefined) return tags
        kept.push(memberTag(table.name, column, named))
      }
      const unnamed = unnamedMemberTag(table.name)
      return [...tags.filter((tag) => tag !== unnamed), ...kept]
    },
  }
}

/** What a plan takes from the SQL text alone: the statement's shape, table, key and entity. */
interface TextPlan {
  /** The WHERE's branches, whose pins name the row once the parameters are known. */
  rows: readonly Branch[]
  /** The columns the UPDATE sets, lower-cased. */
  assigned: ReadonlySet<string>
  table: TableInfo
  key: KeyColumn
  metadata: EntityMetadata
  /** The statement with its RETURNING widened by a lookup's columns (undefined: cannot be). */
  widen(columns: readonly LookupColumn[]): WidenedUpdate | undefined
}

/**
 * Per DataSource, once it is initialized: the text part of a plan is a pure function of the SQL
 * text and of the entity metadata, which no longer changes then (as the read memo, design §7).
 * Tokenizing the text again and scanning every entity's table name per write were most of a
 * write's own analysis.
 */
const textPlans = new WeakMap<DataSource, TextMemo<TextPlan | undefined>>()

function textPlanOf(dataSource: DataSource, sql: string): TextPlan | undefined {
  if (!dataSource.isInitialized) return textPlan(dataSource, sql)
  let memo = textPlans.get(dataSource)
  if (memo === undefined) {
    memo = new TextMemo()
    textPlans.set(dataSource, memo)
  }
  return memo.get(sql, (text) => textPlan(dataSource, text))
}

function textPlan(dataSource: DataSource, sql: string): TextPlan | undefined {
  const shape = statementShape(sql, 'postgres')
  if (shape?.kind !== 'update' || shape.rows === undefined || shape.assigned === undefined) return undefined
  const table = schemaOf(dataSource).table(shape.table)
  if (table === undefined || table.tree || table.primary.length !== 1) return undefined
  const key = table.primary[0]!
  if (shape.assigned.some((column) => column.toLowerCase() === key.name.toLowerCase())) return undefined
  const metadata = entityOf(dataSource, table.name)
  if (metadata === undefined) return undefined
  // A lookup's columns are one shared array per entity and key type (lookup.ts memo).
  const widened = new WeakMap<readonly LookupColumn[], WidenedUpdate | null>()
  let tokens: readonly SqlToken[] | undefined
  return {
    rows: shape.rows,
    assigned: new Set(shape.assigned.map((column) => column.toLowerCase())),
    table,
    key,
    metadata,
    widen(columns) {
      if (widened.has(columns)) return widened.get(columns) ?? undefined
      tokens ??= tokenizeSql(sql, 'postgres')
      const made = widenReturning(
        sql,
        tokens,
        columns.map((c) => dataSource.driver.escape(c.column)),
      )
      widened.set(columns, made ?? null)
      return made
    },
  }
}

/** The single row a one-row UPDATE … RETURNING reported (node-postgres result), or undefined. */
function onlyRow(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const result = raw as { command?: unknown; rowCount?: unknown; rows?: unknown }
  if (result.command !== 'UPDATE' || result.rowCount !== 1) return undefined
  if (!Array.isArray(result.rows) || result.rows.length !== 1) return undefined
  const row: unknown = result.rows[0]
  return typeof row === 'object' && row !== null ? (row as Record<string, unknown>) : undefined
}

/** The lookup's raw row (its output names, in its order), or undefined if the SELECT would return no row. */
function rebuild(
  lookup: PrimaryKeyLookup,
  returned: Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (lookup.softDelete !== undefined && !lookup.columns.some((c) => c.column === lookup.softDelete))
    return undefined
  const record: Record<string, unknown> = {}
  for (let i = 0; i < lookup.columns.length; i++) {
    const name = `${MARKER}${i}`
    if (!(name in returned)) return undefined
    const column = lookup.columns[i]!
    // A soft-deleted row is not what `findOneBy` returns: leave the entry to the next read.
    if (column.column === lookup.softDelete && returned[name] !== null) return undefined
    record[column.output] = returned[name]
  }
  return record
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a)
  return set.size === new Set(b).size && b.every((tag) => set.has(tag))
}

/** The one entity stored in `table` (several: single-table inheritance, whose lookups differ). */
function entityOf(dataSource: DataSource, table: string): EntityMetadata | undefined {
  const name = normalizeTable(table)
  const found = dataSource.entityMetadatas.filter(
    (m) => m.tableType !== 'view' && normalizeTable(m.tableName) === name,
  )
  return found.length === 1 ? found[0] : undefined
}

/** node-postgres's transaction status of the runner's connection after its last statement. */
function transactionStatus(runner: QueryRunner): unknown {
  const connection = (runner as { databaseConnection?: { getTransactionStatus?: () => unknown } })
    .databaseConnection
  return typeof connection?.getTransactionStatus === 'function'
    ? connection.getTransactionStatus()
    : undefined
}
