import { classifyRead, type ReadVerdict, type SqlDialect } from '@ormcache/core'
import { TextMemo } from './memo.js'

const memos = {
  postgres: new TextMemo<ReadVerdict>(),
  mysql: new TextMemo<ReadVerdict>(),
  sqlite: new TextMemo<ReadVerdict>(),
}

/** The core's verdict on whether `sql` may be cached, memoized per SQL text. Do not mutate. */
export function readVerdictOf(sql: string, dialect: SqlDialect): ReadVerdict {
  return memos[dialect].get(sql, (text) => classifyRead(text, dialect))
}
