import { type SqlDialect, type SqlTables, sqlTables } from '@ormcache/core/adapter'
import { TextMemo } from './memo.js'

const memos = {
  postgres: new TextMemo<SqlTables>(),
  mysql: new TextMemo<SqlTables>(),
  sqlite: new TextMemo<SqlTables>(),
}

/** The core's table extraction, memoized per SQL text. Callers must not mutate the result. */
export function tablesOf(sql: string, dialect: SqlDialect): SqlTables {
  return memos[dialect].get(sql, (text) => sqlTables(text, dialect))
}
