import { isPunct, isWord, type SqlDialect, type SqlToken as Token, tokenizeSql } from '@ormcache/core/adapter'
import type { DataSource, EntityMetadata } from 'typeorm'
import { TextMemo } from '../sql/memo.js'

/** One output column of a primary-key lookup: `"Alias"."column" AS "output"`. */
export interface LookupColumn {
  column: string
  output: string
}

/** The SELECT `findOneBy({ pk })` sends, and what its rows are made of. */
export interface PrimaryKeyLookup {
  sql: string
  parameters: unknown[]
  /** The select list in order: the raw row of this SELECT has exactly these keys. */
  columns: LookupColumn[]
  /** `AND "deleteDate" IS NULL`: the SELECT returns the row only while this column is null. */
  softDelete: string | undefined
}

interface LookupForm {
  columns: LookupColumn[]
  softDelete: string | undefined
}

const forms = new TextMemo<LookupForm | undefined>()

/**
 * The lookup `repository.findOneBy({ [pk]: value })` and `findOne({ where: { [pk]: value } })`
 * send, built the way TypeORM builds them (the SQL is a pure function of the metadata and the
 * find options), if its rows can be rebuilt from a row the database returned: one table, no
 * joins (eager relations), every select item a plain column, a WHERE that is the key pin and at
 * most the soft-delete filter, LIMIT 1. Anything else: undefined (no write-through).
 */
export function primaryKeyLookup(
  dataSource: DataSource,
  metadata: EntityMetadata,
  value: unknown,
  dialect: SqlDialect,
): PrimaryKeyLookup | undefined {
  const key = metadata.primaryColumns[0]
  if (metadata.primaryColumns.length !== 1 || key === undefined) return undefined
  const kind = memoKind(value, key.transformer)
  const known = kind === undefined ? undefined : builtOf(metadata).get(kind)
  if (known !== undefined) return { sql: known.sql, parameters: [value], ...known.form }
  let built: [string, unknown[]]
  try {
    built = dataSource
      .createQueryBuilder(metadata.target, metadata.name)
      .setFindOptions({ where: { [key.propertyPath]: value }, take: 1 })
      .getQueryAndParameters()
  } catch {
    return undefined
  }
  const [sql, parameters] = built
  const form = forms.get(sql, () =>
    lookupForm(
      tokenizeSql(sql, dialect),
      metadata.name,
      key.databaseName,
      metadata.deleteDateColumn?.databaseName,
    ),
  )
  if (form === undefined) return undefined
  if (kind !== undefined && parameters.length === 1 && parameters[0] === value) {
    builtOf(metadata).set(kind, { sql, form })
  }
  return { sql, parameters, ...form }
}

/**
 * The built lookup per entity and kind of key value. Building it through TypeORM's query builder
 * was most of a write-through's CPU (it runs twice per write). The text is the same for every
 * value of one JS type: TypeORM binds a plain key value as the one parameter and the rest of the
 * text comes from the metadata. So it is memoized only for a primitive key without a transformer
 * (which could bind something else, or bind differently per value), and only once a build showed
 * the value bound as is; any other value is built every time, as before.
 */
const built = new WeakMap<EntityMetadata, Map<string, { sql: string; form: LookupForm }>>()

function builtOf(metadata: EntityMetadata): Map<string, { sql: string; form: LookupForm }> {
  let byKind = built.get(metadata)
  if (byKind === undefined) {
    byKind = new Map()
    built.set(metadata, byKind)
  }
  return byKind
}

function memoKind(value: unknown, transformer: unknown): string | undefined {
  if (transformer !== undefined) return undefined
  const kind = typeof value
  return kind === 'number' || kind === 'string' || kind === 'bigint' ? kind : undefined
}

function lookupForm(
  tokens: readonly Token[],
  alias: string,
  key: string,
  deleteDate: string | undefined,
): LookupForm | undefined {
  if (!isWord(tokens[0], 'SELECT')) return undefined
  let i = 1
  const columns: LookupColumn[] = []
  while (true) {
    const item = qualified(tokens, i, alias)
    if (item === undefined || !isWord(tokens[item.next], 'AS')) return undefined
    const output = tokens[item.next + 1]
    if (output?.kind !== 'ident') return undefined
    columns.push({ column: item.column, output: output.text })
    i = item.next + 2
    if (isPunct(tokens[i], ',')) i++
    else break
  }
  if (!isWord(tokens[i], 'FROM') || tokens[i + 1]?.kind !== 'ident' || !isIdent(tokens[i + 2], alias))
    return undefined
  if (!isWord(tokens[i + 3], 'WHERE')) return undefined
  // The WHERE is a conjunction of plain atoms (no OR anywhere): its parentheses change nothing.
  const where = tokens.slice(i + 4).filter((t) => !isPunct(t, '(') && !isPunct(t, ')'))
  const pin = qualified(where, 0, alias)
  if (pin?.column !== key || !isPunct(where[pin.next], '=')) return undefined
  const bound = where[pin.next + 1]
  if (bound?.kind !== 'param' || bound.index !== 0) return undefined
  let j = pin.next + 2
  let softDelete: string | undefined
  if (isWord(where[j], 'AND')) {
    const filter = qualified(where, j + 1, alias)
    if (filter === undefined || filter.column !== deleteDate) return undefined
    if (!isWord(where[filter.next], 'IS') || !isWord(where[filter.next + 1], 'NULL')) return undefined
    softDelete = filter.column
    j = filter.next + 2
  }
  const limit = where[j + 1]
  if (!isWord(where[j], 'LIMIT') || limit?.kind !== 'number' || limit.text !== '1') return undefined
  if (where.length !== j + 2) return undefined
  return { columns, softDelete }
}

function qualified(tokens: readonly Token[], i: number, alias: string) {
  const column = tokens[i + 2]
  if (!isIdent(tokens[i], alias) || !isPunct(tokens[i + 1], '.') || column?.kind !== 'ident') return undefined
  return { column: column.text, next: i + 3 }
}

function isIdent(token: Token | undefined, text: string): boolean {
  return token?.kind === 'ident' && token.text === text
}
