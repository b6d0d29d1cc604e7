import { isPunct, isWord, type SqlToken as Token } from '@ormcache/core/adapter'

/** A value a column is compared with: a bound parameter or an inline literal. */
export type Operand = { kind: 'param'; index: number } | { kind: 'literal'; text: string; quoted: boolean }

/**
 * One branch of a WHERE clause in disjunctive form: the columns it pins to a finite set of
 * values. A branch that pins nothing may match any row.
 */
export type Branch = ReadonlyMap<string, readonly Operand[]>

/** Past this many branches the clause is treated as matching any row (still correct, less precise). */
const MAX_BRANCHES = 256

const NOT_A_COLUMN = new Set([
  'NULL',
  'TRUE',
  'FALSE',
  'NOT',
  'AND',
  'OR',
  'CASE',
  'EXISTS',
  'SELECT',
  'DEFAULT',
  'CURRENT_TIMESTAMP',
])

/**
 * The rows a WHERE clause can match, as branches of column pins; `undefined` when the clause
 * reaches outside the statement's one table (a subquery, or a column of another alias).
 * Only exact `col = value` and `col IN (values…)` conjuncts pin; every other condition is an
 * opaque filter, which can only narrow a branch, so ignoring it keeps the result a superset.
 * `strict` (a read's precise dependencies, docs/design.md "Precision"): the branches must be
 * exactly the clause, so an opaque filter makes the clause unparsed (undefined) instead.
 */
export function parsePredicate(
  tokens: readonly Token[],
  start: number,
  end: number,
  qualifiers: ReadonlySet<string>,
  strict = false,
): Branch[] | undefined {
  for (let i = start; i < end; i++) if (isWord(tokens[i], 'SELECT')) return undefined
  const branches: Branch[] = []
  for (const [s, e] of splitTopLevel(tokens, start, end, 'OR')) {
    let conjunction: Branch[] = [new Map()]
    for (const [as, ae] of splitTopLevel(tokens, s, e, 'AND')) {
      const atom = parseAtom(tokens, as, ae, qualifiers, strict)
      if (atom === undefined) return undefined
      conjunction = combine(conjunction, atom)
    }
    branches.push(...conjunction)
    if (branches.length > MAX_BRANCHES) return [new Map()]
  }
  return branches
}

function parseAtom(
  tokens: readonly Token[],
  start: number,
  end: number,
  qualifiers: ReadonlySet<string>,
  strict: boolean,
): Branch[] | undefined {
  if (start >= end) return undefined
  if (isPunct(tokens[start], '(') && closing(tokens, start) === end - 1) {
    return parsePredicate(tokens, start + 1, end - 1, qualifiers, strict)
  }
  const pin = parsePin(tokens, start, end, qualifiers)
  if (pin !== undefined) return [new Map([pin])]
  if (strict) return undefined
  // An opaque filter: fine as long as it names no column of another table.
  for (let i = start; i + 2 < end; i++) {
    const t = tokens[i]!
    if ((t.kind === 'ident' || t.kind === 'word') && isPunct(tokens[i + 1], '.')) {
      if (!qualifiers.has(t.text.toLowerCase())) return undefined
    }
  }
  return [new Map()]
}

/** `col = v`, `v = col` or `col IN (v, …)`, and nothing else in the range. */
function parsePin(
  tokens: readonly Token[],
  start: number,
  end: number,
  qualifiers: ReadonlySet<string>,
): [string, Operand[]] | undefined {
  const left = column(tokens, start, qualifiers)
  if (left !== undefined) {
    const op = tokens[left.next]
    if (isPunct(op, '=')) {
      const value = operand(tokens[left.next + 1])
      return value !== undefined && left.next + 2 === end ? [left.name, [value]] : undefined
    }
    if (isWord(op, 'IN') && isPunct(tokens[left.next + 1], '(')) {
      const close = closing(tokens, left.next + 1)
      if (close !== end - 1) return undefined
      const values: Operand[] = []
      for (let i = left.next + 2; i < close; i += 2) {
        const value = operand(tokens[i])
        if (value === undefined) return undefined
        values.push(value)
        if (i + 1 < close && !isPunct(tokens[i + 1], ',')) return undefined
      }
      return values.length > 0 ? [left.name, values] : undefined
    }
    return undefined
  }
  const value = operand(tokens[start])
  if (value !== undefined && isPunct(tokens[start + 1], '=')) {
    const right = column(tokens, start + 2, qualifiers)
    if (right !== undefined && right.next === end) return [right.name, [value]]
  }
  return undefined
}

/** A possibly qualified column reference at `start`; the qualifier must be the statement's table. */
export function column(
  tokens: readonly Token[],
  start: number,
  qualifiers: ReadonlySet<string>,
): { name: string; next: number } | undefined {
  const first = tokens[start]
  if (!isName(first)) return undefined
  if (isPunct(tokens[start + 1], '.')) {
    const second = tokens[start + 2]
    if (!isName(second) || !qualifiers.has(first.text.toLowerCase())) return undefined
    return { name: second.text, next: start + 3 }
  }
  return { name: first.text, next: start + 1 }
}

function isName(token: Token | undefined): token is Extract<Token, { kind: 'word' | 'ident' }> {
  if (token === undefined) return false
  if (token.kind === 'ident') return true
  return token.kind === 'word' && !NOT_A_COLUMN.has(token.upper)
}

function operand(token: Token | undefined): Operand | undefined {
  if (token === undefined) return undefined
  if (token.kind === 'param') return token.index >= 0 ? { kind: 'param', index: token.index } : undefined
  if (token.kind === 'number') return { kind: 'literal', text: token.text, quoted: false }
  if (token.kind === 'string') return { kind: 'literal', text: token.text, quoted: true }
  return undefined
}

function combine(left: Branch[], right: Branch[]): Branch[] {
  const out: Branch[] = []
  for (const a of left) {
    for (const b of right) {
      const merged = new Map(a)
      // Two pins of one column: either alone bounds the rows, so keep the first.
      for (const [name, values] of b) if (!merged.has(name)) merged.set(name, values)
      out.push(merged)
      if (out.length > MAX_BRANCHES) return [new Map()]
    }
  }
  return out
}

/** Index of the ")" matching the "(" at `open`, or -1. */
export function closing(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    if (isPunct(tokens[i], '(')) depth++
    else if (isPunct(tokens[i], ')')) {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/** Ranges between top-level occurrences of `word` (AND / OR) or commas (`word` = ','). */
export function splitTopLevel(
  tokens: readonly Token[],
  start: number,
  end: number,
  word: string,
): [number, number][] {
  const parts: [number, number][] = []
  let depth = 0
  let from = start
  for (let i = start; i < end; i++) {
    const t = tokens[i]!
    if (isPunct(t, '(')) depth++
    else if (isPunct(t, ')')) depth--
    else if (depth === 0 && (word === ',' ? isPunct(t, ',') : isWord(t, word))) {
      parts.push([from, i])
      from = i + 1
    }
  }
  parts.push([from, end])
  return parts
}

/** First top-level index in [start, end) of one of `words`, or `end`. */
export function findTopLevel(tokens: readonly Token[], start: number, end: number, words: string[]): number {
  let depth = 0
  for (let i = start; i < end; i++) {
    const t = tokens[i]!
    if (isPunct(t, '(')) depth++
    else if (isPunct(t, ')')) depth--
    else if (depth === 0 && t.kind === 'word' && words.includes(t.upper)) return i
  }
  return end
}
