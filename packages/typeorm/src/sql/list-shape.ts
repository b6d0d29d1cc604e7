import { isPunct, isWord, type SqlToken as Token } from '@ormcache/core/adapter'
import { statementAnalysis } from './memo.js'
import { type Branch, column, findTopLevel, parsePredicate, splitTopLevel } from './predicate.js'
import { NOT_PLAIN_SELECT } from './statements.js'

/** `LEFT JOIN table alias ON alias.column = parentAlias.parentColumn`. */
export interface ListJoin {
  table: string
  alias: string
  /** Column of the joined table that the ON clause pins. */
  column: string
  parentAlias: string
  parentColumn: string
}

/**
 * A SELECT of plain columns from one table, optionally with LEFT JOINs that each pin one column
 * of the joined table to a column of an earlier alias, filtered only by equality pins on the
 * first table, without paging. The rows it returns are exactly the rows its filter matches, so
 * its dependencies can be precise (docs/design.md, "Precision" and "Relations loaded for parents").
 */
export interface ListShape {
  table: string
  alias: string
  /** Branches of `WHERE` in disjunctive form; only pins (strict parse). */
  pins: Branch[]
  joins: ListJoin[]
  /** `alias.column` (lower case) → the output column name of the raw rows. */
  outputs: Map<string, string>
}

/** Paging, deduplication and joins other than LEFT JOIN … ON. */
const FORBIDDEN = new Set([
  ...NOT_PLAIN_SELECT,
  'DISTINCT',
  'LIMIT',
  'OFFSET',
  'FETCH',
  'INNER',
  'RIGHT',
  'FULL',
  'CROSS',
  'NATURAL',
  'USING',
])

/** The list shape of `sql`, or undefined (memoized per text: shapes hold parameter positions). */
export const listShape = statementAnalysis(analyse)

function analyse(tokens: readonly Token[]): ListShape | undefined {
  if (!isWord(tokens[0], 'SELECT')) return undefined
  let selects = 0
  for (const t of tokens) {
    if (t.kind !== 'word') continue
    if (t.upper === 'SELECT') selects++
    if (FORBIDDEN.has(t.upper)) return undefined
  }
  if (selects !== 1) return undefined
  const from = findTopLevel(tokens, 1, tokens.length, ['FROM'])
  const root = aliased(tokens, from + 1)
  if (root === undefined) return undefined
  const aliases = new Set([root.alias])
  const joins: ListJoin[] = []
  let i = root.next
  while (isWord(tokens[i], 'LEFT')) {
    i++
    if (isWord(tokens[i], 'OUTER')) i++
    if (!isWord(tokens[i], 'JOIN')) return undefined
    const joined = aliased(tokens, i + 1)
    if (joined === undefined || aliases.has(joined.alias) || !isWord(tokens[joined.next], 'ON'))
      return undefined
    const on = equality(tokens, joined.next + 1)
    if (on === undefined) return undefined
    // One side is the joined table, the other an alias joined before it.
    const [mine, theirs] = on.left.alias === joined.alias ? [on.left, on.right] : [on.right, on.left]
    if (mine.alias !== joined.alias || !aliases.has(theirs.alias)) return undefined
    joins.push({
      table: joined.table,
      alias: joined.alias,
      column: mine.column,
      parentAlias: theirs.alias,
      parentColumn: theirs.column,
    })
    aliases.add(joined.alias)
    i = on.next
  }
  if (!isWord(tokens[i], 'WHERE')) return undefined
  const whereEnd = findTopLevel(tokens, i + 1, tokens.length, ['ORDER'])
  const pins = parsePredicate(tokens, i + 1, whereEnd, new Set([root.alias, root.table.toLowerCase()]), true)
  if (pins === undefined || pins.some((branch) => branch.size === 0)) return undefined
  // ORDER BY plain columns only: nothing after the WHERE may compute or read another table.
  for (let j = whereEnd; j < tokens.length; j++) if (isPunct(tokens[j], '(')) return undefined
  const outputs = selectList(tokens, 1, from, aliases)
  if (outputs === undefined) return undefined
  return { table: root.table, alias: root.alias, pins, joins, outputs }
}

/** `[schema.]table alias` (TypeORM always names an alias), lower-cased alias. */
export function aliased(
  tokens: readonly Token[],
  start: number,
): { table: string; alias: string; next: number } | undefined {
  let i = start
  let table: string | undefined
  while (true) {
    const t = tokens[i]
    if (t === undefined || !(t.kind === 'ident' || t.kind === 'word')) return undefined
    table = t.text
    i++
    if (isPunct(tokens[i], '.')) i++
    else break
  }
  if (isWord(tokens[i], 'AS')) i++
  const alias = tokens[i]
  if (alias?.kind !== 'ident' && !(alias?.kind === 'word' && !isKeyword(alias.upper))) return undefined
  return { table, alias: alias.text.toLowerCase(), next: i + 1 }
}

const KEYWORDS = new Set(['WHERE', 'LEFT', 'JOIN', 'ON', 'ORDER', 'INNER', 'OUTER'])
function isKeyword(upper: string): boolean {
  return KEYWORDS.has(upper)
}

interface ColumnRef {
  alias: string
  column: string
}

/** `a.x = b.y` and nothing more before the next JOIN / WHERE. */
function equality(
  tokens: readonly Token[],
  start: number,
): { left: ColumnRef; right: ColumnRef; next: number } | undefined {
  const left = qualified(tokens, start)
  if (left === undefined || !isPunct(tokens[left.next], '=')) return undefined
  const right = qualified(tokens, left.next + 1)
  if (right === undefined || !isWord(tokens[right.next], 'LEFT', 'WHERE')) return undefined
  return { left, right, next: right.next }
}

function qualified(tokens: readonly Token[], start: number): (ColumnRef & { next: number }) | undefined {
  const q = tokens[start]
  const c = tokens[start + 2]
  if (!(q?.kind === 'ident' || q?.kind === 'word') || !isPunct(tokens[start + 1], '.')) return undefined
  if (!(c?.kind === 'ident' || c?.kind === 'word')) return undefined
  return { alias: q.text.toLowerCase(), column: c.text, next: start + 3 }
}

/** Every item `alias.column [AS name]`; undefined on anything computed. */
function selectList(
  tokens: readonly Token[],
  start: number,
  end: number,
  aliases: ReadonlySet<string>,
): Map<string, string> | undefined {
  const outputs = new Map<string, string>()
  for (const [s, e] of splitTopLevel(tokens, start, end, ',')) {
    const ref = column(tokens, s, aliases)
    const first = tokens[s]
    if (ref === undefined || !isPunct(tokens[s + 1], '.') || first === undefined || first.kind === 'punct')
      return undefined
    let next = ref.next
    let name = ref.name
    if (isWord(tokens[next], 'AS')) next++
    const label = tokens[next]
    if (next < e) {
      if (label?.kind !== 'ident' && label?.kind !== 'word') return undefined
      name = label.text
      next++
    }
    if (next !== e) return undefined
    outputs.set(`${(first as { text: string }).text.toLowerCase()}.${ref.name.toLowerCase()}`, name)
  }
  return outputs.size > 0 ? outputs : undefined
}
