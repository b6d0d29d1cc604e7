import type { SqlDialect } from '@ormcache/core'

/**
 * A small SQL scanner for the statement shapes TypeORM generates. Unlike the core's table
 * extractor it keeps what a row-level analysis needs: which bound parameter each placeholder
 * is, and the text of numeric literals (SQLite inlines integer keys). Anything it does not
 * understand only makes the analysis give up, which falls back to table-level tags.
 */
export type Token =
  | { kind: 'word'; text: string; upper: string }
  | { kind: 'ident'; text: string }
  /** `index` is the position in the bound parameter array, or -1 for a named placeholder. */
  | { kind: 'param'; index: number }
  | { kind: 'number'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'punct'; text: string }

export function scan(sql: string, dialect: SqlDialect): Token[] {
  const mysql = dialect === 'mysql'
  const tokens: Token[] = []
  let ordinal = 0
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    const next = sql[i + 1]
    if (/\s/.test(c)) {
      i++
    } else if ((c === '-' && next === '-') || (c === '#' && mysql)) {
      while (i < n && sql[i] !== '\n') i++
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end === -1 ? n : end + 2
    } else if (c === "'" || (c === '"' && mysql)) {
      const backslash = mysql || sql[i - 1] === 'E' || sql[i - 1] === 'e'
      const [text, end] = quoted(sql, i, c, backslash)
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
      const match = /^\$([0-9]+)/.exec(sql.slice(i))!
      tokens.push({ kind: 'param', index: Number(match[1]) - 1 })
      i += match[0].length
    } else if (c === '$' && next !== undefined && /[A-Za-z_$]/.test(next)) {
      // Dollar-quoted body ($tag$…$tag$) or a named placeholder: opaque either way.
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length)
        tokens.push({ kind: 'string', text: '' })
        i = close === -1 ? n : close + tag[0].length
      } else {
        i = skipName(sql, i + 1)
        tokens.push({ kind: 'param', index: -1 })
      }
    } else if (c === '?') {
      const numbered = /^\?([0-9]+)/.exec(sql.slice(i))
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
      if (['<=', '>=', '<>', '!=', '||', '::'].includes(pair)) {
        tokens.push({ kind: 'punct', text: pair })
        i += 2
      } else {
        tokens.push({ kind: 'punct', text: c })
        i++
      }
    }
  }
  return tokens
}

function skipName(sql: string, start: number): number {
  let i = start
  while (i < sql.length && /[A-Za-z0-9_]/.test(sql[i]!)) i++
  return i
}

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

export function isWord(token: Token | undefined, ...words: string[]): boolean {
  return token?.kind === 'word' && words.includes(token.upper)
}

export function isPunct(token: Token | undefined, text: string): boolean {
  return token?.kind === 'punct' && token.text === text
}
