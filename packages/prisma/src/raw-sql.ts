import { UncacheableQueryError } from '@ormcache/core'
import {
  type BypassReason,
  bulkWriteTags,
  classifyRead,
  normalizeTable,
  type ReadVerdict,
  type SqlDialect,
  sqlTables,
} from '@ormcache/core/adapter'
import type { DataModel } from './schema/data-model.js'
import { deleteCascadeTags, updateCascadeTags } from './write-effects/referential.js'
import type { WriteEffects } from './write-effects/write-effects.js'

export const RAW_OPERATIONS = new Set([
  '$executeRaw',
  '$executeRawUnsafe',
  '$queryRaw',
  '$queryRawUnsafe',
  '$queryRawTyped',
])

export interface RawStatement {
  sql: string
  values: readonly unknown[]
}

/** The SQL text of a raw operation's arguments: a Sql object, `[sql, ...values]`, or TypedSql. */
export function rawStatement(args: unknown): RawStatement | undefined {
  if (Array.isArray(args)) {
    return typeof args[0] === 'string' ? { sql: args[0], values: args.slice(1) } : undefined
  }
  if (typeof args !== 'object' || args === null) return undefined
  const sqlLike = args as { sql?: unknown; strings?: unknown; values?: unknown }
  const values = Array.isArray(sqlLike.values) ? sqlLike.values : []
  if (typeof sqlLike.sql === 'string') return { sql: sqlLike.sql, values }
  if (Array.isArray(sqlLike.strings) && sqlLike.strings.every((s) => typeof s === 'string')) {
    return { sql: sqlLike.strings.join('?'), values }
  }
  return undefined
}

/** Prisma provider → the SQL dialect `sqlTables` reads; undefined when we cannot parse it. */
export function dialectOf(provider: string | undefined): SqlDialect | undefined {
  switch (provider) {
    case 'postgresql':
    case 'postgres':
    case 'cockroachdb':
      return 'postgres'
    case 'mysql':
      return 'mysql'
    case 'sqlite':
      return 'sqlite'
    default:
      return undefined
  }
}

/**
 * What a raw statement may have written: table and bulk tags of every target table, plus the
 * dependents referential actions may rewrite (the text cannot tell a DELETE's cascades). An
 * unparseable statement invalidates everything. `reads` are the tables it reads.
 */
export function rawEffects(
  dataModel: DataModel,
  dialect: SqlDialect | undefined,
  sql: string,
): WriteEffects & { reads: string[]; writes: boolean } {
  const tags = new Set<string>()
  if (dialect === undefined) return { tags, everything: true, reads: [], writes: true }
  const found = sqlTables(sql, dialect)
  if (found.writes === undefined) return { tags, everything: true, reads: found.reads, writes: true }
  for (const table of found.writes) {
    for (const tag of bulkWriteTags(table)) tags.add(tag)
    const model = dataModel.byTable.get(normalizeTable(table))
    if (model !== undefined) {
      deleteCascadeTags(dataModel, model, tags)
      updateCascadeTags(dataModel, model, undefined, tags)
    }
  }
  return { tags, everything: false, reads: found.reads, writes: found.writes.length > 0 }
}

/** Core's verdict on a raw read; SQL of a provider we cannot parse is `unknown`. */
export function rawVerdict(dialect: SqlDialect | undefined, sql: string): ReadVerdict {
  if (dialect === undefined) return { cacheable: false, reason: 'unknown', reads: [], volatile: [] }
  return classifyRead(sql, dialect)
}

const ADVICE: Record<BypassReason, string> = {
  writes: 'it writes; run it with $queryRaw, which invalidates what it wrote',
  unknown: 'it is not a plain read this extension can analyse; run it with $queryRaw',
  locking: 'it takes row locks; run it with $queryRaw inside the transaction that needs them',
  volatile: 'pass { volatile: true } to cache its result until the TTL anyway',
  'no-tables': 'it reads no table',
  'no-dependencies': 'it depends on no tag',
}

/** The typed refusal of `$queryRawCached` for a statement that must reach the database. */
export function uncacheable(reason: BypassReason, verdict: ReadVerdict): UncacheableQueryError {
  const found = verdict.volatile.length > 0 ? ` (calls ${verdict.volatile.join(', ')})` : ''
  return new UncacheableQueryError(reason, `${ADVICE[reason]}${found}`)
}
