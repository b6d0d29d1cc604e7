import {
  classifyRead,
  type ReadSafetyOptions,
  type ReadVerdict,
  type SqlDialect,
} from '@ormcache/core/adapter'
import { TextMemo } from './memo.js'

/** Core's verdicts on whether SQL texts may be cached, memoized per text for one DataSource. */
export class ReadVerdicts {
  private readonly memo = new TextMemo<ReadVerdict>()

  constructor(
    private readonly dialect: SqlDialect,
    private readonly options: ReadSafetyOptions,
  ) {}

  /** The verdict on `sql`; callers must not mutate it. */
  of(sql: string): ReadVerdict {
    return this.memo.get(sql, (text) => classifyRead(text, this.dialect, this.options))
  }
}
