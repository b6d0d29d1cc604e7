/**
 * A forgiving SQL tokenizer for PostgreSQL, MySQL/MariaDB and SQLite. It only needs to tell
 * keywords and identifiers apart from literals and comments, so that a table name inside a
 * string or comment is never mistaken for one the statement touches.
 */
export type Token =
  /** An unquoted word (keyword or identifier), upper-cased in `upper`. */
  | { type: 'word'; text: string; upper: string }
  /** A quoted identifier ("x", `x`, [x]); `text` is unquoted. */
  | { type: 'quoted'; text: string }
  | { type: 'punct'; text: string }
  /** A string, number, parameter or dollar-quoted body; contents are irrelevant here. */
  | { type: 'literal' }

/** Lexical rules that differ between databases and change what is a comment or a string. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite'

export function tokenize(sql: string, dialect: SqlDialect = 'postgres'): Token[] {
  const mysql = dialect === 'mysql'
  const tokens: Token[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    const next = sql[i + 1]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++
    } else if ((c === '-' && next === '-') || (c === '#' && mysql)) {
      while (i < n && sql[i] !== '\n') i++
    } else if (c === '/' && next === '*') {
      let depth = 1
      i += 2
      // PostgreSQL nests block comments.
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++
          i += 2
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--
          i += 2
        } else i++
      }
    } else if (c === "'" || (c === '"' && mysql)) {
      // MySQL escapes with backslashes and quotes strings with "…" too; PostgreSQL only in E'…'.
      i = skipQuoted(sql, i, c, mysql || isEscapeString(sql, i))
      tokens.push({ type: 'literal' })
    } else if (c === '"' || c === '`') {
      const end = skipQuoted(sql, i, c, false)
      tokens.push({ type: 'quoted', text: sql.slice(i + 1, end - 1).replaceAll(c + c, c) })
      i = end
    } else if (c === '[' && dialect === 'sqlite') {
      const end = sql.indexOf(']', i)
      const stop = end === -1 ? n : end + 1
      tokens.push({ type: 'quoted', text: sql.slice(i + 1, stop - 1) })
      i = stop
    } else if (c === '$' && /[A-Za-z_$]/.test(next ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length)
        i = close === -1 ? n : close + tag[0].length
      } else i++
      tokens.push({ type: 'literal' })
    } else if (c === '$' && /[0-9]/.test(next ?? '')) {
      i++
      while (i < n && /[0-9]/.test(sql[i]!)) i++
      tokens.push({ type: 'literal' })
    } else if (/[0-9]/.test(c)) {
      while (i < n && /[0-9.eE_xXa-fA-F]/.test(sql[i]!)) i++
      tokens.push({ type: 'literal' })
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const start = i
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i]!)) i++
      const text = sql.slice(start, i)
      tokens.push({ type: 'word', text, upper: text.toUpperCase() })
    } else if (c === '?' || c === ':' || c === '@') {
      // Positional or named parameters and variables.
      i++
      while (i < n && /[A-Za-z0-9_]/.test(sql[i]!)) i++
      tokens.push({ type: 'literal' })
    } else {
      tokens.push({ type: 'punct', text: c })
      i++
    }
  }
  return tokens
}

function isEscapeString(sql: string, quote: number): boolean {
  const before = sql[quote - 1]
  return before === 'E' || before === 'e'
}

/** Returns the index just past the closing quote; doubled quotes are escapes. */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]
    if (backslashEscapes && c === '\\') {
      i += 2
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2
      else return i + 1
    } else i++
  }
  return sql.length
}
