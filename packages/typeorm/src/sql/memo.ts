import { isPunct, type SqlDialect, tokenizeSql as scan, type SqlToken as Token } from '@ormcache/core/adapter'

/**
 * A small LRU of per-SQL-text results. An application runs a bounded set of SQL texts (the
 * parameters vary, the text does not), so analysing each text once takes the scanner off the
 * hot path of every cache hit.
 */
export class TextMemo<T> {
  private readonly entries = new Map<string, T>()

  constructor(private readonly limit = 2_000) {}

  get(text: string, compute: (text: string) => T): T {
    const found = this.entries.get(text)
    if (found !== undefined || this.entries.has(text)) {
      // Refresh recency.
      this.entries.delete(text)
      this.entries.set(text, found as T)
      return found as T
    }
    const value = compute(text)
    this.entries.set(text, value)
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!)
    return value
  }
}

/**
 * `analyse` applied to the tokens of one statement (trailing semicolons dropped; several
 * statements are not analysed), memoized per dialect and SQL text. Results must hold parameter
 * positions, never values.
 */
export function statementAnalysis<T>(
  analyse: (tokens: readonly Token[]) => T | undefined,
): (sql: string, dialect: SqlDialect) => T | undefined {
  const memos = {
    postgres: new TextMemo<T | undefined>(),
    mysql: new TextMemo<T | undefined>(),
    sqlite: new TextMemo<T | undefined>(),
  }
  return (sql, dialect) =>
    memos[dialect].get(sql, (text) => {
      let tokens = scan(text, dialect)
      while (isPunct(tokens[tokens.length - 1], ';')) tokens = tokens.slice(0, -1)
      return tokens.some((t) => isPunct(t, ';')) ? undefined : analyse(tokens)
    })
}
