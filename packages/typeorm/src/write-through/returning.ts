import { isPunct, isWord, type SqlToken as Token } from '@ormcache/core/adapter'
import { findTopLevel } from '../sql/predicate.js'

/** Output names of the columns the adapter adds to an UPDATE's RETURNING (removed before TypeORM sees them). */
export const MARKER = '__ormcache_wt_'

export interface WidenedUpdate {
  sql: string
  /** The statement returned rows of its own: keep the rows, drop only the added keys. */
  hadReturning: boolean
}

/**
 * The UPDATE with `RETURNING` widened by `columns` (escaped names), each under a marker name,
 * or undefined when the end of the statement is not a plain RETURNING list (or nothing) that
 * can be extended by appending text.
 */
export function widenReturning(
  sql: string,
  tokens: readonly Token[],
  columns: readonly string[],
): WidenedUpdate | undefined {
  // Appending to the text is only safe when the text ends with the last token.
  if (sql.includes('--') || sql.includes('/*') || /;\s*$/.test(sql)) return undefined
  const added = columns.map((column, i) => `${column} AS "${MARKER}${i}"`).join(', ')
  const at = findTopLevel(tokens, 0, tokens.length, ['RETURNING'])
  if (at >= tokens.length) return { sql: `${sql.trimEnd()} RETURNING ${added}`, hadReturning: false }
  for (let i = at + 1; i < tokens.length; i++) {
    const t = tokens[i]!
    const plain =
      t.kind === 'ident' ||
      (t.kind === 'word' && !isWord(t, 'FROM', 'WHERE', 'ORDER', 'LIMIT', 'INTO')) ||
      isPunct(t, ',') ||
      isPunct(t, '.') ||
      isPunct(t, '*')
    if (!plain || ((t.kind === 'ident' || t.kind === 'word') && t.text.startsWith(MARKER))) return undefined
  }
  return { sql: `${sql.trimEnd()}, ${added}`, hadReturning: true }
}

/** Restores the rows TypeORM asked for: the added keys removed, or no rows at all if it asked for none. */
export function stripAdded(records: unknown, widened: WidenedUpdate): void {
  if (!Array.isArray(records)) return
  if (!widened.hadReturning) {
    // node-postgres reports `rows: []` for an UPDATE without RETURNING; TypeORM's raw is that array.
    records.length = 0
    return
  }
  for (const record of records) {
    if (typeof record !== 'object' || record === null) continue
    for (const key of Object.keys(record))
      if (key.startsWith(MARKER)) delete (record as Record<string, unknown>)[key]
  }
}
