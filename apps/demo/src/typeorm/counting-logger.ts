import type { Logger } from 'typeorm'

/**
 * TypeORM calls its logger for every statement it sends, whatever the `logging` option says:
 * counting there is the dashboard's "queries executed by the database" for TypeORM. A cache hit
 * never reaches the query runner, so it is never counted.
 */
export function countingLogger(onStatement: () => void): Logger {
  return {
    logQuery: () => onStatement(),
    logQueryError: () => {},
    logQuerySlow: () => {},
    logSchemaBuild: () => {},
    logMigration: () => {},
    log: () => {},
  }
}
