import pg from 'pg'

/** Statements one database connection pool sent, by kind. */
export class QueryCounter {
  reads = 0
  total = 0

  record(statement: unknown): void {
    this.total++
    const text =
      typeof statement === 'string'
        ? statement
        : typeof statement === 'object' && statement !== null && 'text' in statement
          ? String((statement as { text: unknown }).text)
          : ''
    if (/^\s*(\(\s*)*(SELECT|WITH)\b/i.test(text)) this.reads++
  }

  snapshot(): { reads: number; total: number } {
    return { reads: this.reads, total: this.total }
  }
}

/**
 * A pg Client class that counts every statement it sends. Both ORMs take it through the pool
 * options (`new pg.Pool({ Client })`; TypeORM passes `extra` to its pool), so queries are counted
 * where they leave the process, identically for every library and without query logging.
 */
export function countingClient(counter: QueryCounter): typeof pg.Client {
  class CountingClient extends pg.Client {}
  const query = pg.Client.prototype.query
  CountingClient.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    counter.record(args[0])
    return Reflect.apply(query, this, args)
  } as typeof query
  return CountingClient
}
