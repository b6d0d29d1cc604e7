/**
 * A forgiving SQL tokenizer for PostgreSQL, MySQL/MariaDB and SQLite. It tells keywords and
 * identifiers apart from literals and comments, so that a table name inside a string or comment
 * is never mistaken for one the statement touches, and it keeps what a row-level analysis needs:
 * which bound parameter each placeholder is, and the text of literals.
 */
export type Token =
  /** An unquoted word (keyword or identifier); `upper` is upper-cased. */
  | { kind: 'word'; text: string; upper: string }
  /** A quoted identifier ("x", `x`, [x] on SQLite), unquoted. */
  | { kind: 'ident'; text: string }
  /** `index` is the 0-based position in the bound parameter array, or -1 for a named placeholder. */
  | { kind: 'param'; index: number }
  | { kind: 'number'; text: string }
  /** A string literal's content (dollar-quoted bodies are empty: they are code, not data). */
  | { kind: 'string'; text: string }
  | { kind: 'punct'; text: string }

/** Lexical rules that differ between databases and change what is a comment or a string. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite'

const TWO_CHAR_OPERATORS = new Set(['<=', '>=', '<>', '!=', '||', '::'])

export function tokenize(sql: string, dialect: SqlDialect = 'postgres'): Token[] {
  const mysql = dialect === 'mysql'
  const tokens: Token[] = []
  let ordinal = 0
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    const next = sql[i + 1]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++
    } else if ((c === '-' && next === '-') || (c === '#' && mysql)) {
      // `#` starts a comment only in MySQL; in PostgreSQL it is an operator.
      while (i < n && sql[i] !== '\n') i++
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i)
    } else if (c === "'" || (c === '"' && mysql)) {
      // MySQL escapes with backslashes and quotes strings with "…" too; PostgreSQL only in E'…'.
      const [text, end] = quoted(sql, i, c, mysql || sql[i - 1] === 'E' || sql[i - 1] === 'e')
      tokens.push({ kind: 'string', text })
      i = end
    } else if (c === '"' || c === '`') {
      const [text, end] = quoted(sql, i, c, false)
      tokens.push({ kind: 'ident', text })
      i = end
    } else if (c === '[' && dialect === 'sqlite') {
      const end = sql.indexOf(']', i)
      const stop = end === -1 ? n : end
      tokens.push({ kind: 'ident', text: sql.slice(i + 1, stop) })
      i = stop + 1
    } else if (c === '$' && next !== undefined && /[0-9]/.test(next)) {
      const match = /^\$([0-9]+)/.exec(sql.slice(i, i + 12))!
      tokens.push({ kind: 'param', index: Number(match[1]) - 1 })
      i += match[0].length
    } else if (c === '$' && next !== undefined && /[A-Za-z_$]/.test(next)) {
      // A dollar-quoted body ($tag$…$tag$) or a named placeholder: opaque either way.
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66))
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length)
        tokens.push({ kind: 'string', text: '' })
        i = close === -1 ? n : close + tag[0].length
      } else {
        i = skipName(sql, i + 1)
        tokens.push({ kind: 'param', index: -1 })
      }
    } else if (c === '?') {
      const numbered = /^\?([0-9]+)/.exec(sql.slice(i, i + 12))
      if (numbered) {
        tokens.push({ kind: 'param', index: Number(numbered[1]) - 1 })
        i += numbered[0].length
      } else {
        tokens.push({ kind: 'param', index: ordinal++ })
        i++
      }
    } else if ((c === ':' || c === '@') && next !== undefined && /[A-Za-z_]/.test(next)) {
      i = skipName(sql, i + 1)
      tokens.push({ kind: 'param', index: -1 })
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      const start = i
      while (i < n && /[0-9A-Za-z_.]/.test(sql[i]!)) i++
      tokens.push({ kind: 'number', text: sql.slice(start, i) })
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const start = i
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i]!)) i++
      const text = sql.slice(start, i)
      tokens.push({ kind: 'word', text, upper: text.toUpperCase() })
    } else {
      // Two-character operators stay together so "<=" is never read as "<" then "=".
      const pair = c + (next ?? '')
      const two = TWO_CHAR_OPERATORS.has(pair)
      tokens.push({ kind: 'punct', text: two ? pair : c })
      i += two ? 2 : 1
    }
  }
  return tokens
}

export function isWord(token: Token | undefined, ...words: string[]): boolean {
  return token?.kind === 'word' && words.includes(token.upper)
}

export function isPunct(token: Token | undefined, text: string): boolean {
  return token?.kind === 'punct' && token.text === text
}

/** PostgreSQL nests block comments; the others treat the first "*\/" as the end, same result for valid SQL. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 1
  let i = start + 2
  while (i < sql.length && depth > 0) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++
      i += 2
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--
      i += 2
    } else i++
  }
  return i
}

function skipName(sql: string, start: number): number {
  let i = start
  while (i < sql.length && /[A-Za-z0-9_]/.test(sql[i]!)) i++
  return i
}

/** Returns the unescaped content and the index just past the closing quote. */
function quoted(sql: string, start: number, quote: string, backslash: boolean): [string, number] {
  let text = ''
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]!
    if (backslash && c === '\\') {
      text += sql[i + 1] ?? ''
      i += 2
    } else if (c === quote) {
      if (sql[i + 1] === quote) {
        text += quote
        i += 2
      } else return [text, i + 1]
    } else {
      text += c
      i++
    }
  }
  return [text, sql.length]
}
