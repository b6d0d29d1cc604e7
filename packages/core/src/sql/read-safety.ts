import { firstKeyword, isSelectInto, splitStatements, tablesOfTokens } from './tables.js'
import { isWord, type SqlDialect, type Token, tokenize } from './tokenize.js'
import { volatileCalls } from './volatile.js'

/**
 * Why a statement's result must not be served from the cache:
 * - `writes`: it changes data (a data-modifying CTE, `SELECT … INTO`, several statements one of
 *   which writes); skipping it would skip the write.
 * - `unknown`: it is not a plain read, or may write something the analyser cannot name.
 * - `locking`: `FOR UPDATE` / `FOR SHARE` / `LOCK IN SHARE MODE`; the lock is the point.
 * - `volatile`: it calls the clock, a random or sequence function, or one with a side effect;
 *   no invalidation can reach such a result.
 * - `no-tables`: it reads no table, so no write could ever invalidate it.
 * `volatile` and `no-tables` results may still be cached when the query asks explicitly
 * (it then accepts that only the TTL ends them); the others never are.
 */
export type UncacheableReason = 'writes' | 'unknown' | 'locking' | 'volatile' | 'no-tables'

export interface ReadVerdict {
  /** True when the result stays correct until a write to one of `reads` invalidates it. */
  cacheable: boolean
  reason?: UncacheableReason
  /** Tables the statement reads (CTE names excluded). */
  reads: readonly string[]
  /** Volatile functions, clock keywords or clock strings found (lower-cased), for diagnostics. */
  volatile: readonly string[]
}

export interface ReadSafetyOptions {
  /** User-defined functions that are volatile or have side effects (case-insensitive). */
  volatileFunctions?: Iterable<string>
}

/** Statements that only read; anything else is `unknown`. */
const READ_STATEMENTS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE'])

/**
 * The one place that decides whether a SQL read may be cached (design §3, "What is never
 * cached"). Adapters call it once per SQL text (memoized) before consulting the cache.
 */
export function classifyRead(
  sql: string,
  dialect: SqlDialect = 'postgres',
  options: ReadSafetyOptions = {},
): ReadVerdict {
  const tokens = tokenize(sql, dialect)
  const tables = tablesOfTokens(tokens)
  const reads = tables.reads
  const verdict = (reason: UncacheableReason, volatile: readonly string[] = []): ReadVerdict => ({
    cacheable: false,
    reason,
    reads,
    volatile,
  })
  const statements = splitStatements(tokens)
  if (tables.writes !== undefined && tables.writes.length > 0) return verdict('writes')
  if (tables.writes === undefined || statements.length === 0) return verdict('unknown')
  for (const statement of statements) {
    const first = firstKeyword(statement)
    if (first === undefined || !READ_STATEMENTS.has(first)) {
      return verdict(first === 'LOCK' ? 'locking' : 'unknown')
    }
  }
  if (tokens.some((_, i) => isSelectInto(tokens, i))) return verdict('writes')
  if (statements.some(isLockingRead)) return verdict('locking')
  const extra = new Set([...(options.volatileFunctions ?? [])].map((name) => name.toLowerCase()))
  const volatile = volatileCalls(tokens, dialect, extra)
  if (volatile.length > 0) return verdict('volatile', volatile)
  if (reads.length === 0) return verdict('no-tables')
  return { cacheable: true, reads, volatile: [] }
}

/** `FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`, `FOR KEY SHARE` (any depth), `LOCK IN SHARE MODE`. */
function isLockingRead(statement: Token[]): boolean {
  return statement.some((token, i) => {
    const [a, b, c] = [statement[i + 1], statement[i + 2], statement[i + 3]]
    if (isWord(token, 'FOR')) {
      return (
        isWord(a, 'UPDATE', 'SHARE') ||
        (isWord(a, 'NO') && isWord(b, 'KEY') && isWord(c, 'UPDATE')) ||
        (isWord(a, 'KEY') && isWord(b, 'SHARE'))
      )
    }
    return isWord(token, 'LOCK') && isWord(a, 'IN') && isWord(b, 'SHARE') && isWord(c, 'MODE')
  })
}
