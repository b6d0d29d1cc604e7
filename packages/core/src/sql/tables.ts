import { type SqlDialect, type Token, tokenize } from './tokenize.js'

export interface SqlTables {
  /** Tables the statement reads (FROM, JOIN, USING, subqueries); CTE names excluded. */
  reads: string[]
  /**
   * Tables the statement may write, or `undefined` when it may write something we cannot name
   * (DDL, CALL, DO, EXECUTE, unknown statements): the caller must then invalidate everything.
   */
  writes: string[] | undefined
}

const READ_ONLY_STATEMENTS = new Set(['SELECT', 'VALUES', 'TABLE', 'SHOW', 'DESCRIBE', 'DESC', 'PRAGMA_READ'])
/** Session and transaction control: touch no table data. */
const NEUTRAL_STATEMENTS = new Set([
  'BEGIN',
  'START',
  'COMMIT',
  'END',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'SET',
  'RESET',
  'LOCK',
  'UNLOCK',
  'USE',
  'LISTEN',
  'UNLISTEN',
  'NOTIFY',
  'DEALLOCATE',
  'DISCARD',
  'ANALYZE',
  'VACUUM',
])
/** Words that end a FROM list (so the next identifier is not a table). */
const CLAUSE_END = new Set([
  'WHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'HAVING',
  'WINDOW',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'ON',
  'SET',
  'RETURNING',
  'FOR',
  'FETCH',
  'VALUES',
  'SELECT',
  'WHEN',
  'INTO',
  'USING',
])
/** Words after which a comma no longer separates tables of a FROM list (ON does not end it). */
const READ_LIST_END = new Set([...CLAUSE_END].filter((word) => word !== 'ON' && word !== 'USING'))
/** Functions whose arguments use FROM without naming a table: EXTRACT(x FROM y) and friends. */
const FROM_FUNCTIONS = new Set(['EXTRACT', 'SUBSTRING', 'TRIM', 'OVERLAY', 'POSITION', 'SUBSTR'])

/**
 * Finds the tables a SQL text reads and writes. Errs on the side of naming too many: an extra
 * table only costs an unnecessary invalidation, a missing one would leave stale data.
 */
export function sqlTables(sql: string, dialect: SqlDialect = 'postgres'): SqlTables {
  return tablesOfTokens(tokenize(sql, dialect))
}

/** `sqlTables` over an already tokenized text. */
export function tablesOfTokens(tokens: Token[]): SqlTables {
  const reads = new Set<string>()
  const writes = new Set<string>()
  const cteNames = new Set<string>()
  let unknownWrite = false

  for (const statement of splitStatements(tokens)) {
    const first = firstKeyword(statement)
    if (first === undefined || NEUTRAL_STATEMENTS.has(first)) continue
    if (first === 'EXPLAIN' && !statement.some((t) => t.kind === 'word' && t.upper === 'ANALYZE')) continue
    collectCteNames(statement, cteNames)
    const written = collectWrites(statement)
    if (written === undefined) unknownWrite = true
    else for (const table of written) writes.add(table)
    for (const table of collectReads(statement)) reads.add(table)
    if (
      !READ_ONLY_STATEMENTS.has(first) &&
      !WRITE_STATEMENTS.has(first) &&
      first !== 'WITH' &&
      first !== 'EXPLAIN'
    ) {
      unknownWrite = true
    }
  }
  for (const name of cteNames) {
    reads.delete(name)
    writes.delete(name)
  }
  return { reads: [...reads], writes: unknownWrite ? undefined : [...writes] }
}

const WRITE_STATEMENTS = new Set([
  'INSERT',
  'REPLACE',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'MERGE',
  'UPSERT',
  'COPY',
])

/** The statements of a token list, split at top-level semicolons; empty ones dropped. */
export function splitStatements(tokens: Token[]): Token[][] {
  const statements: Token[][] = [[]]
  for (const token of tokens) {
    if (token.kind === 'punct' && token.text === ';') statements.push([])
    else statements[statements.length - 1]!.push(token)
  }
  return statements.filter((s) => s.length > 0)
}

/** The first keyword of a statement (past opening parentheses), upper-cased. */
export function firstKeyword(statement: Token[]): string | undefined {
  for (const token of statement) {
    if (token.kind === 'word') return token.upper
    if (token.kind !== 'punct' || token.text !== '(') return undefined
  }
  return undefined
}

function collectCteNames(statement: Token[], names: Set<string>): void {
  for (let i = 0; i + 2 < statement.length; i++) {
    const name = statement[i]!
    const as = statement[i + 1]!
    const open = statement[i + 2]!
    const previous = statement[i - 1]
    const startsCte =
      previous !== undefined &&
      ((previous.kind === 'word' && (previous.upper === 'WITH' || previous.upper === 'RECURSIVE')) ||
        (previous.kind === 'punct' && previous.text === ','))
    if (
      startsCte &&
      isIdentifier(name) &&
      as.kind === 'word' &&
      as.upper === 'AS' &&
      open.kind === 'punct' &&
      open.text === '('
    ) {
      names.add(identifierText(name).toLowerCase())
    }
  }
}

/** Write targets anywhere in the statement (data-modifying CTEs included); undefined if unknowable. */
function collectWrites(statement: Token[]): string[] | undefined {
  const tables: string[] = []
  for (let i = 0; i < statement.length; i++) {
    const token = statement[i]!
    if (token.kind !== 'word') continue
    const previous = statement[i - 1]
    const prevWord = previous?.kind === 'word' ? previous.upper : undefined
    switch (token.upper) {
      case 'INSERT':
      case 'REPLACE':
      case 'UPSERT': {
        if (token.upper === 'REPLACE' && (statement[i + 1]?.kind === 'punct' || prevWord === 'OR')) break
        if (prevWord === 'THEN') break // MERGE … THEN INSERT targets the MERGE table
        const at = skipWords(statement, i + 1, [
          'LOW_PRIORITY',
          'DELAYED',
          'HIGH_PRIORITY',
          'IGNORE',
          'OR',
          'REPLACE',
          'ROLLBACK',
          'ABORT',
          'FAIL',
          'INTO',
        ])
        const name = readTableName(statement, at, true)
        if (name === undefined) return undefined
        tables.push(name.name)
        break
      }
      case 'UPDATE': {
        // FOR UPDATE (locking), DO UPDATE (upsert) and KEY UPDATE (MySQL upsert) are not targets.
        if (prevWord === 'FOR' || prevWord === 'DO' || prevWord === 'KEY' || prevWord === 'NO') break
        if (prevWord === 'ON' || prevWord === 'THEN') break // ON UPDATE CASCADE; MERGE … THEN UPDATE
        const listed = readTableList(
          statement,
          skipWords(statement, i + 1, [
            'LOW_PRIORITY',
            'IGNORE',
            'ONLY',
            'OR',
            'ROLLBACK',
            'ABORT',
            'REPLACE',
            'FAIL',
          ]),
          'SET',
        )
        if (listed === undefined) return undefined
        tables.push(...listed)
        break
      }
      case 'DELETE': {
        if (prevWord === 'ON' || prevWord === 'THEN') break // ON DELETE CASCADE; MERGE … THEN DELETE
        // DELETE FROM t, and MySQL's multi-table DELETE t1, t2 FROM t1 JOIN t2: take everything
        // named before WHERE (targets and joined tables alike).
        const listed = readTableList(
          statement,
          skipWords(statement, i + 1, ['LOW_PRIORITY', 'QUICK', 'IGNORE', 'FROM', 'ONLY']),
          'WHERE',
        )
        if (listed === undefined) return undefined
        tables.push(...listed)
        break
      }
      case 'TRUNCATE': {
        // CASCADE empties every referencing table too, which the text does not name.
        if (statement.some((t) => t.kind === 'word' && t.upper === 'CASCADE')) return undefined
        const listed = readTableList(statement, skipWords(statement, i + 1, ['TABLE', 'ONLY']), undefined)
        if (listed === undefined) return undefined
        tables.push(...listed)
        break
      }
      case 'MERGE': {
        const name = readTableName(statement, skipWords(statement, i + 1, ['INTO', 'ONLY']))
        if (name === undefined) return undefined
        tables.push(name.name)
        break
      }
      case 'INTO': {
        // SELECT … INTO writes a new table (PostgreSQL) or variables / a file (MySQL).
        if (!isSelectInto(statement, i)) break
        const at = skipWords(statement, i + 1, ['TEMP', 'TEMPORARY', 'UNLOGGED', 'TABLE'])
        const target = statement[at]
        if (target?.kind === 'word' && (target.upper === 'OUTFILE' || target.upper === 'DUMPFILE')) break
        const name = readTableName(statement, at)
        if (name !== undefined) tables.push(name.name)
        break
      }
      case 'COPY': {
        if (i !== 0) break // a table or column named "copy", not the COPY statement
        const name = readTableName(statement, i + 1, true)
        const direction = statement.find(
          (t, j) => j > i && t.kind === 'word' && (t.upper === 'FROM' || t.upper === 'TO'),
        )
        if (name === undefined) return undefined
        if (direction?.kind === 'word' && direction.upper === 'FROM') tables.push(name.name)
        break
      }
    }
  }
  return tables
}

/** Words that may stand between INSERT / REPLACE / MERGE and the INTO of their target. */
const WRITE_INTO_PREFIX = new Set([
  'INSERT',
  'REPLACE',
  'MERGE',
  'UPSERT',
  'IGNORE',
  'LOW_PRIORITY',
  'DELAYED',
  'HIGH_PRIORITY',
  'OR',
  'ROLLBACK',
  'ABORT',
  'FAIL',
])

/**
 * Whether the INTO at `at` belongs to a SELECT (`SELECT … INTO t`, `INTO @v`, `INTO OUTFILE`)
 * rather than to the target of an INSERT, REPLACE or MERGE.
 */
export function isSelectInto(statement: Token[], at: number): boolean {
  const token = statement[at]
  if (token?.kind !== 'word' || token.upper !== 'INTO') return false
  const previous = statement[at - 1]
  return !(previous?.kind === 'word' && WRITE_INTO_PREFIX.has(previous.upper))
}

function collectReads(statement: Token[]): string[] {
  const tables: string[] = []
  // Per parenthesis depth: is a FROM list open there, and was the "(" a FROM-style function?
  const fromList: boolean[] = [false]
  const fromFunction: boolean[] = [false]
  let depth = 0
  for (let i = 0; i < statement.length; i++) {
    const token = statement[i]!
    if (token.kind === 'punct' && token.text === '(') {
      const before = statement[i - 1]
      depth++
      fromList[depth] = false
      fromFunction[depth] = before?.kind === 'word' && FROM_FUNCTIONS.has(before.upper)
      continue
    }
    if (token.kind === 'punct' && token.text === ')') {
      if (depth > 0) depth--
      continue
    }
    const commaInList = token.kind === 'punct' && token.text === ',' && fromList[depth] === true
    if (token.kind === 'word' || commaInList) {
      const word = token.kind === 'word' ? token.upper : ','
      const isJoin = word.endsWith('JOIN')
      if ((word === 'FROM' && fromFunction[depth] !== true) || isJoin || word === 'USING' || commaInList) {
        if (word === 'FROM') fromList[depth] = true
        const name = readTableName(statement, skipWords(statement, i + 1, ['ONLY', 'LATERAL']))
        if (name !== undefined) {
          tables.push(name.name)
          i = name.end - 1
        }
      } else if (READ_LIST_END.has(word)) {
        fromList[depth] = false
      }
    }
  }
  return tables
}

function skipWords(statement: Token[], start: number, words: readonly string[]): number {
  let i = start
  while (i < statement.length) {
    const token = statement[i]!
    if (token.kind === 'word' && words.includes(token.upper)) i++
    else break
  }
  return i
}

/** A possibly schema-qualified name at `start` that is not a function call; returns its last part. */
function readTableName(
  statement: Token[],
  start: number,
  columnListAllowed = false,
): { name: string; end: number } | undefined {
  let i = start
  let name: string | undefined
  while (i < statement.length) {
    const token = statement[i]!
    if (!isIdentifier(token)) return undefined
    name = identifierText(token)
    i++
    const dot = statement[i]
    if (dot?.kind === 'punct' && dot.text === '.') {
      i++
      continue
    }
    break
  }
  if (name === undefined) return undefined
  const after = statement[i]
  // A name followed by "(" is a function call, except where a column list may follow (INSERT, COPY).
  if (!columnListAllowed && after?.kind === 'punct' && after.text === '(') return undefined
  return { name, end: i }
}

/** Comma-separated table names (with aliases and joins) up to the `until` keyword. */
function readTableList(statement: Token[], start: number, until: string | undefined): string[] | undefined {
  const tables: string[] = []
  let expectName = true
  for (let i = start; i < statement.length; i++) {
    const token = statement[i]!
    if (
      token.kind === 'word' &&
      (token.upper === until || (until === undefined && CLAUSE_END.has(token.upper)))
    )
      break
    if (
      token.kind === 'word' &&
      (token.upper === 'RESTART' ||
        token.upper === 'CONTINUE' ||
        token.upper === 'CASCADE' ||
        token.upper === 'RESTRICT')
    )
      break
    if (token.kind === 'punct' && token.text === ',') {
      expectName = true
      continue
    }
    if (
      token.kind === 'word' &&
      (token.upper.endsWith('JOIN') || token.upper === 'FROM' || token.upper === 'USING')
    ) {
      expectName = true
      continue
    }
    if (expectName) {
      const name = readTableName(statement, skipWords(statement, i, ['ONLY', 'TABLE']))
      if (name === undefined) {
        if (token.kind === 'punct' && token.text === '(') return tables.length > 0 ? tables : undefined
        continue
      }
      tables.push(name.name)
      i = name.end - 1
      expectName = false
    }
  }
  return tables.length > 0 ? tables : undefined
}

function isIdentifier(token: Token): boolean {
  return token.kind === 'ident' || token.kind === 'word'
}

function identifierText(token: Token): string {
  return token.kind === 'ident' || token.kind === 'word' ? token.text : ''
}
