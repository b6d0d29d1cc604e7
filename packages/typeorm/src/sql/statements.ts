import { isPunct, isWord, type SqlToken as Token } from '@ormcache/core/adapter'
import { statementAnalysis } from './memo.js'
import {
  type Branch,
  column,
  findTopLevel,
  type Operand,
  parsePredicate,
  splitTopLevel,
} from './predicate.js'

/** A value in an INSERT tuple: bound/literal, the column default (DEFAULT or NULL), or an expression. */
export type InsertValue = Operand | { kind: 'default' } | { kind: 'expression' }

/**
 * The row-level shape of one statement, when it is one of the simple single-table forms
 * TypeORM generates. `rows: undefined` means the rows it touches cannot be named.
 */
export type StatementShape =
  | { kind: 'select'; table: string; rows: Branch[] }
  | {
      kind: 'update'
      table: string
      rows: Branch[] | undefined
      assigned: string[] | undefined
      /** The value each assigned column takes, in `assigned` order (expressions are opaque). */
      values: InsertValue[] | undefined
    }
  | { kind: 'delete'; table: string; rows: Branch[] | undefined }
  | {
      kind: 'insert'
      table: string
      columns: string[] | undefined
      tuples: InsertValue[][] | undefined
      /** ignore: existing rows stay untouched; update: a conflict rewrites an unnamed row. */
      conflict: 'none' | 'ignore' | 'update'
    }

/** Words that make a SELECT more than rows of its tables: set operations, grouping, locking, CTEs. */
export const NOT_PLAIN_SELECT = [
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'GROUP',
  'HAVING',
  'WINDOW',
  'FOR',
  'INTO',
  'LATERAL',
  'WITH',
]
const SELECT_FORBIDDEN = new Set(['JOIN', ...NOT_PLAIN_SELECT])
/** Functions a single-table primary-key lookup may apply in its select list. */
const SELECT_FUNCTIONS = new Set(['COUNT', 'DISTINCT'])

/** The shape of `sql` (memoized per text: shapes hold parameter positions, never values). */
export const statementShape = statementAnalysis(analyse)

function analyse(tokens: readonly Token[]): StatementShape | undefined {
  const first = tokens[0]
  if (first?.kind !== 'word') return undefined
  switch (first.upper) {
    case 'SELECT':
      return selectShape(tokens)
    case 'UPDATE':
      return updateShape(tokens)
    case 'DELETE':
      return deleteShape(tokens)
    case 'INSERT':
    case 'REPLACE':
      return insertShape(tokens)
  }
  return undefined
}

interface TableAt {
  table: string
  qualifiers: Set<string>
  next: number
}

/** `[schema.]table [[AS] alias]` at `start`. */
function tableAt(tokens: readonly Token[], start: number, stopWords: readonly string[]): TableAt | undefined {
  let i = start
  let name: string | undefined
  while (true) {
    const t = tokens[i]
    if (t === undefined || !(t.kind === 'ident' || t.kind === 'word')) return undefined
    if (t.kind === 'word' && stopWords.includes(t.upper)) return undefined
    name = t.text
    i++
    if (isPunct(tokens[i], '.')) i++
    else break
  }
  const qualifiers = new Set([name.toLowerCase()])
  if (isWord(tokens[i], 'AS')) i++
  const alias = tokens[i]
  if (
    alias !== undefined &&
    (alias.kind === 'ident' || (alias.kind === 'word' && !stopWords.includes(alias.upper)))
  ) {
    qualifiers.add(alias.text.toLowerCase())
    i++
  }
  return { table: name, qualifiers, next: i }
}

function selectShape(tokens: readonly Token[]): StatementShape | undefined {
  let selects = 0
  for (const t of tokens) {
    if (t.kind !== 'word') continue
    if (t.upper === 'SELECT') selects++
    if (SELECT_FORBIDDEN.has(t.upper)) return undefined
  }
  if (selects !== 1) return undefined
  const from = findTopLevel(tokens, 1, tokens.length, ['FROM'])
  for (let i = 1; i < from; i++) {
    if (isPunct(tokens[i], '(') && !isWord(tokens[i - 1], ...SELECT_FUNCTIONS)) return undefined
  }
  const target = tableAt(tokens, from + 1, ['WHERE', 'ORDER', 'LIMIT', 'OFFSET'])
  if (target === undefined || !isWord(tokens[target.next], 'WHERE')) return undefined
  const whereEnd = findTopLevel(tokens, target.next + 1, tokens.length, ['ORDER', 'LIMIT', 'OFFSET', 'FETCH'])
  for (let i = whereEnd; i < tokens.length; i++) if (isPunct(tokens[i], '(')) return undefined
  const rows = parsePredicate(tokens, target.next + 1, whereEnd, target.qualifiers)
  return rows === undefined ? undefined : { kind: 'select', table: target.table, rows }
}

function updateShape(tokens: readonly Token[]): StatementShape | undefined {
  let i = 1
  let replaces = false
  while (isWord(tokens[i], 'LOW_PRIORITY', 'IGNORE', 'ONLY', 'OR', 'ROLLBACK', 'ABORT', 'REPLACE', 'FAIL')) {
    // SQLite's UPDATE OR REPLACE deletes whichever rows conflict: not the ones the WHERE names.
    if (isWord(tokens[i], 'REPLACE')) replaces = true
    i++
  }
  const target = tableAt(tokens, i, ['SET'])
  if (target === undefined || !isWord(tokens[target.next], 'SET')) return undefined
  const end = tokens.length
  const setEnd = findTopLevel(tokens, target.next + 1, end, ['WHERE', 'FROM', 'RETURNING', 'ORDER', 'LIMIT'])
  const assigned: string[] = []
  const values: InsertValue[] = []
  for (const [s, e] of splitTopLevel(tokens, target.next + 1, setEnd, ',')) {
    const col = column(tokens, s, target.qualifiers)
    if (col === undefined || !isPunct(tokens[col.next], '=') || col.next >= e) {
      return { kind: 'update', table: target.table, rows: undefined, assigned: undefined, values: undefined }
    }
    assigned.push(col.name)
    // `SET c = DEFAULT` / `SET c = NULL` stay opaque ('default'): no pin value either way.
    values.push(insertValue(tokens, col.next + 1, e))
  }
  let rows: Branch[] | undefined
  if (isWord(tokens[setEnd], 'WHERE') && !replaces) {
    const whereEnd = findTopLevel(tokens, setEnd + 1, end, ['RETURNING', 'ORDER', 'LIMIT'])
    rows = parsePredicate(tokens, setEnd + 1, whereEnd, target.qualifiers)
  }
  return { kind: 'update', table: target.table, rows, assigned, values }
}

function deleteShape(tokens: readonly Token[]): StatementShape | undefined {
  let i = 1
  while (isWord(tokens[i], 'LOW_PRIORITY', 'QUICK', 'IGNORE')) i++
  if (!isWord(tokens[i], 'FROM')) return undefined
  const target = tableAt(tokens, i + 1, ['WHERE', 'USING', 'RETURNING', 'ORDER', 'LIMIT'])
  if (target === undefined) return undefined
  const next = tokens[target.next]
  if (next !== undefined && !isWord(next, 'WHERE', 'RETURNING', 'ORDER', 'LIMIT')) return undefined
  let rows: Branch[] | undefined
  if (isWord(next, 'WHERE')) {
    const whereEnd = findTopLevel(tokens, target.next + 1, tokens.length, ['RETURNING', 'ORDER', 'LIMIT'])
    rows = parsePredicate(tokens, target.next + 1, whereEnd, target.qualifiers)
  }
  return { kind: 'delete', table: target.table, rows }
}

function insertShape(tokens: readonly Token[]): StatementShape | undefined {
  let conflict: 'none' | 'ignore' | 'update' = isWord(tokens[0], 'REPLACE') ? 'update' : 'none'
  let i = 1
  while (
    isWord(
      tokens[i],
      'LOW_PRIORITY',
      'DELAYED',
      'HIGH_PRIORITY',
      'IGNORE',
      'OR',
      'REPLACE',
      'ROLLBACK',
      'ABORT',
      'FAIL',
    )
  ) {
    if (isWord(tokens[i], 'REPLACE')) conflict = 'update'
    else if (isWord(tokens[i], 'IGNORE') && conflict === 'none') conflict = 'ignore'
    i++
  }
  if (isWord(tokens[i], 'INTO')) i++
  const target = tableAt(tokens, i, ['VALUES', 'DEFAULT', 'SELECT', 'SET'])
  if (target === undefined) return undefined
  i = target.next
  let columns: string[] | undefined
  if (isPunct(tokens[i], '(')) {
    const close = closingParen(tokens, i)
    if (close === -1) return undefined
    columns = []
    for (const [s, e] of splitTopLevel(tokens, i + 1, close, ',')) {
      const col = column(tokens, s, target.qualifiers)
      if (col === undefined || col.next !== e) return undefined
      columns.push(col.name)
    }
    i = close + 1
  }
  const onAt = findTopLevel(tokens, i, tokens.length, ['ON', 'RETURNING'])
  if (isWord(tokens[onAt], 'ON')) {
    const rest = tokens.slice(onAt)
    if (rest.some((t) => isWord(t, 'UPDATE', 'REPLACE'))) conflict = 'update'
    else if (conflict === 'none') conflict = 'ignore'
  }
  let tuples: InsertValue[][] | undefined
  if (isWord(tokens[i], 'VALUES')) {
    tuples = []
    let j = i + 1
    while (isPunct(tokens[j], '(')) {
      const close = closingParen(tokens, j)
      if (close === -1 || close > onAt) return undefined
      tuples.push(splitTopLevel(tokens, j + 1, close, ',').map(([s, e]) => insertValue(tokens, s, e)))
      j = close + 1
      if (!isPunct(tokens[j], ',')) break
      j++
    }
    if (j !== onAt) tuples = undefined
  } else if (isWord(tokens[i], 'DEFAULT') && isWord(tokens[i + 1], 'VALUES')) {
    tuples = [[]]
  }
  return { kind: 'insert', table: target.table, columns, tuples, conflict }
}

function insertValue(tokens: readonly Token[], start: number, end: number): InsertValue {
  if (end - start !== 1) return { kind: 'expression' }
  const t = tokens[start]!
  if (t.kind === 'param') return t.index >= 0 ? { kind: 'param', index: t.index } : { kind: 'expression' }
  if (t.kind === 'number') return { kind: 'literal', text: t.text, quoted: false }
  if (t.kind === 'string') return { kind: 'literal', text: t.text, quoted: true }
  if (isWord(t, 'DEFAULT', 'NULL')) return { kind: 'default' }
  return { kind: 'expression' }
}

function closingParen(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    if (isPunct(tokens[i], '(')) depth++
    else if (isPunct(tokens[i], ')') && --depth === 0) return i
  }
  return -1
}
