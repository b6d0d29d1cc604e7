import { isPunct, isWord, type SqlToken as Token } from '@ormcache/core/adapter'
import { aliased } from './list-shape.js'
import { statementAnalysis } from './memo.js'
import { type Branch, parsePredicate } from './predicate.js'
import { NOT_PLAIN_SELECT } from './statements.js'

/**
 * `SELECT COUNT(1) AS "cnt" FROM table alias WHERE <pins>` — what TypeORM's `count`, `countBy`
 * and QueryBuilder `getCount` send for one table without joins (also `COUNT(*)`, and
 * `COUNT(DISTINCT(alias.column))`, which counts rows when `column` is the table's only key
 * column: the caller checks that). Its value is the number of rows the filter matches, so its
 * dependencies can be precise (docs/design.md, "Counts: rows that leave a pin").
 */
export interface CountShape {
  table: string
  /** Branches of `WHERE` in disjunctive form; only pins (strict parse). */
  pins: Branch[]
  /** The column of `COUNT(DISTINCT …)`, undefined for `COUNT(1)` / `COUNT(*)`. */
  distinct: string | undefined
}

const FORBIDDEN = new Set([
  ...NOT_PLAIN_SELECT,
  'LIMIT',
  'OFFSET',
  'FETCH',
  'ORDER',
  'USING',
  'INNER',
  'RIGHT',
  'FULL',
  'CROSS',
  'NATURAL',
])

/** The count shape of `sql`, or undefined (memoized per text: shapes hold parameter positions). */
export const countShape = statementAnalysis(analyse)

function analyse(tokens: readonly Token[]): CountShape | undefined {
  if (!isWord(tokens[0], 'SELECT') || !isWord(tokens[1], 'COUNT') || !isPunct(tokens[2], '('))
    return undefined
  let selects = 0
  for (const t of tokens) {
    if (t.kind !== 'word') continue
    if (t.upper === 'SELECT') selects++
    if (FORBIDDEN.has(t.upper)) return undefined
  }
  if (selects !== 1) return undefined
  const counted = argument(tokens, 3)
  if (counted === undefined) return undefined
  let i = counted.next
  // `AS "cnt"` (or a bare label), then FROM.
  if (isWord(tokens[i], 'AS')) i++
  if (!isWord(tokens[i], 'FROM')) {
    if (tokens[i]?.kind !== 'ident' && tokens[i]?.kind !== 'word') return undefined
    i++
  }
  if (!isWord(tokens[i], 'FROM')) return undefined
  const from = aliased(tokens, i + 1)
  if (from === undefined) return undefined
  const where = tokens.findIndex((t, at) => at >= from.next && isWord(t, 'WHERE'))
  if (where === -1) return undefined
  // LEFT JOINs (eager relations) keep every root row and may repeat it; COUNT(DISTINCT key)
  // still counts root rows, and the WHERE below may name the root alias only.
  if (where !== from.next && !(counted.column !== undefined && leftJoinsOnly(tokens, from.next, where)))
    return undefined
  const qualifiers = new Set([from.alias, from.table.toLowerCase()])
  if (counted.alias !== undefined && !qualifiers.has(counted.alias)) return undefined
  const pins = parsePredicate(tokens, where + 1, tokens.length, qualifiers, true)
  if (pins === undefined || pins.length === 0 || pins.some((branch) => branch.size === 0)) return undefined
  return { table: from.table, pins, distinct: counted.column }
}

/** `LEFT [OUTER] JOIN … ON …` clauses and nothing else (no comma join, no other join kind). */
function leftJoinsOnly(tokens: readonly Token[], start: number, end: number): boolean {
  if (!isWord(tokens[start], 'LEFT')) return false
  let depth = 0
  for (let i = start; i < end; i++) {
    const t = tokens[i]!
    if (isPunct(t, '(')) depth++
    else if (isPunct(t, ')')) depth--
    else if (depth === 0 && isPunct(t, ',')) return false
    else if (isWord(t, 'JOIN')) {
      const before = isWord(tokens[i - 1], 'OUTER') ? tokens[i - 2] : tokens[i - 1]
      if (!isWord(before, 'LEFT')) return false
    }
  }
  return depth === 0
}

/** `1)`, `*)`, `DISTINCT(alias.column))` or `DISTINCT alias.column)` after `COUNT(`. */
function argument(
  tokens: readonly Token[],
  start: number,
): { column: string | undefined; alias: string | undefined; next: number } | undefined {
  const first = tokens[start]
  if ((first?.kind === 'number' && first.text === '1') || isPunct(first, '*')) {
    return isPunct(tokens[start + 1], ')')
      ? { column: undefined, alias: undefined, next: start + 2 }
      : undefined
  }
  if (!isWord(first, 'DISTINCT')) return undefined
  let i = start + 1
  const parenthesized = isPunct(tokens[i], '(')
  if (parenthesized) i++
  const q = tokens[i]
  const c = tokens[i + 2]
  if (!(q?.kind === 'ident' || q?.kind === 'word') || !isPunct(tokens[i + 1], '.')) return undefined
  if (!(c?.kind === 'ident' || c?.kind === 'word')) return undefined
  i += 3
  if (parenthesized) {
    if (!isPunct(tokens[i], ')')) return undefined
    i++
  }
  if (!isPunct(tokens[i], ')')) return undefined
  return { column: c.text, alias: q.text.toLowerCase(), next: i + 1 }
}
