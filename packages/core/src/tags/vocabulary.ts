import { isDecimal } from '../codec.js'
import { InvalidTagError } from '../errors.js'

/**
 * The tag names both ORM adapters use, so a write through TypeORM invalidates Prisma's reads of
 * the same table and vice versa. Table names are the real database names (after @@map or
 * @Entity(name)), compared case-insensitively and without schema: two tables that differ only in
 * case or schema share tags, which can only over-invalidate, never leave stale data.
 *
 * - table tag: every read that is not a primary-key lookup depends on it; every write bumps it.
 * - bulk tag: primary-key lookups depend on it; writes whose rows are unknown bump it.
 * - row tag: a primary-key lookup depends on it; a write to that row bumps it.
 */
export const tableTag = (table: string): string => `t:${normalizeTable(table)}`
export const bulkTag = (table: string): string => `b:${normalizeTable(table)}`

/**
 * `primaryKey` maps database column names to values. Values are normalized so that both ORMs
 * produce the same tag for the same row (TypeORM returns bigint columns as strings, Prisma as
 * BigInt; both become decimal digits).
 */
export function rowTag(table: string, primaryKey: Readonly<Record<string, unknown>>): string {
  const columns = Object.keys(primaryKey)
  if (columns.length === 0) throw new InvalidTagError(`Row tag for "${table}" needs at least one key column`)
  // A list's fill tags every row it loaded: the common single-column key skips the sort and join.
  const key =
    columns.length === 1
      ? normalizeValue(primaryKey[columns[0]!], table, columns[0]!)
      : columns
          .sort()
          .map((column) => {
            const value = normalizeValue(primaryKey[column], table, column)
            return `${column.toLowerCase()}=${value.length}:${value}`
          })
          .join('&')
  return `r:${normalizeTable(table)}:${key}`
}

/**
 * The tags a single-row write must bump when it reports nothing else about the row: also the
 * unnamed-member tag, since it does not name the values the row kept (see memberTag).
 */
export function rowWriteTags(table: string, primaryKey: Readonly<Record<string, unknown>>): string[] {
  return [tableTag(table), rowTag(table, primaryKey), unnamedMemberTag(table)]
}

/** The tags a write to unknown rows (bulk update/delete, raw SQL) must bump. */
export function bulkWriteTags(table: string): string[] {
  return [tableTag(table), bulkTag(table)]
}

/**
 * Column-value tag: the rows of `table` whose `column` holds `value`. Lists whose filter pins
 * that column to that value depend on it; a write bumps it for the values the written columns
 * take. Built from a row image alone (column name + value), so a change-stream consumer computes
 * the same tag from a WAL row. Values are normalized like primary keys; booleans become 1/0,
 * which is how SQLite and MySQL return them.
 */
export function columnTag(table: string, column: string, value: unknown): string {
  return valueTag('v', table, column, value)
}

/**
 * Bumped by a write that sets `column` to a value it cannot name (an SQL expression, a default
 * the database filled in). Every list pinning the column depends on it.
 */
export const columnAnyTag = (table: string, column: string): string =>
  `a:${normalizeTable(table)}:${column.toLowerCase()}`

/**
 * Bumped by a write after which a row of `table` may no longer hold a value of `column` it held
 * before, when the write cannot name that old value: an update that sets `column` without knowing
 * the row's previous value, a delete of rows whose old values are unknown. Reads that return no
 * rows to take row tags from (pinned counts) depend on it for every pinned column; a write that
 * knows the old value bumps its column-value tag instead (docs/design.md, "Counts").
 */
export const columnLeftTag = (table: string, column: string): string =>
  `l:${normalizeTable(table)}:${column.toLowerCase()}`

/**
 * Member tag: "a row of `table` that held `value` in `column` before the write, and still holds
 * it, was written". A write that changes a known row bumps it for every pinnable column it does
 * not set, with the value the database returned for this write (never an entity's possibly
 * outdated field), so a list pinned to that value can depend on it instead of on the row tag of
 * every row it returned (docs/design.md, "Lists without row tags"). Built from a row image alone,
 * like columnTag, and normalized the same way.
 */
export function memberTag(table: string, column: string, value: unknown): string {
  return valueTag('m', table, column, value)
}

/** `<kind>:<table>:<column>=<value>`, the value normalized like a key; booleans become 1/0. */
function valueTag(kind: 'v' | 'm', table: string, column: string, value: unknown): string {
  const normalized = typeof value === 'boolean' ? (value ? '1' : '0') : normalizeValue(value, table, column)
  return `${kind}:${normalizeTable(table)}:${column.toLowerCase()}=${normalized}`
}

/**
 * Bumped by a write that changes a known row of `table` without naming the values it kept (no
 * row image: an UPDATE without RETURNING, an entity event, a Prisma nested update, a write
 * reported with rowWriteTags). Every list that depends on member tags of the table depends on it.
 */
export const unnamedMemberTag = (table: string): string => `u:${normalizeTable(table)}`

/**
 * Row, column-value and member tags may be dependencies a read learns only after its load (the
 * rows it returned, the parents it loaded children for). Writes bump them strictly after the
 * coarse tags of the same write (see versions.ts).
 */
export function isFineTag(tag: string): boolean {
  return tag.startsWith('r:') || tag.startsWith('v:') || tag.startsWith('m:')
}

/** True if `tag` is a row, column-value or member tag of `table` (already normalized). */
export function isFineTagOf(tag: string, normalizedTable: string): boolean {
  return (
    isFineTag(tag) &&
    tag.startsWith(':', 2 + normalizedTable.length) &&
    tag.slice(2, 2 + normalizedTable.length) === normalizedTable
  )
}

/** Values a column-value tag can be made of (anything the row-key normalization accepts, and null). */
export function isTaggableValue(value: unknown): boolean {
  if (value === null) return true
  const type = typeof value
  return (
    type === 'string' ||
    type === 'bigint' ||
    type === 'boolean' ||
    (type === 'number' && Number.isFinite(value)) ||
    value instanceof Date ||
    value instanceof Uint8Array ||
    isDecimal(value)
  )
}

export function normalizeTable(table: string): string {
  const known = normalizedTables.get(table)
  if (known !== undefined) return known
  if (typeof table !== 'string' || table.length === 0)
    throw new InvalidTagError('Table names must be non-empty')
  const unquoted = table.replace(/["`[\]]/g, '')
  const dot = unquoted.lastIndexOf('.')
  const normalized = (dot === -1 ? unquoted : unquoted.slice(dot + 1)).toLowerCase()
  if (normalizedTables.size >= MAX_NORMALIZED_TABLES) normalizedTables.clear()
  normalizedTables.set(table, normalized)
  return normalized
}

/**
 * Every tag names its table, normalized: a list's fill does it once per row it loaded, each time
 * a regex replace and a lowercase copy. A schema has few table names; the bound only keeps
 * names from raw SQL from growing it without end.
 */
const normalizedTables = new Map<string, string>()
const MAX_NORMALIZED_TABLES = 1_024

function normalizeValue(value: unknown, table: string, column: string): string {
  // NUL cannot occur in a PostgreSQL text value; a collision would only over-invalidate anyway.
  if (value === null) return '\u0000null'
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'bigint':
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
  }
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  if (isDecimal(value)) return String(value)
  throw new InvalidTagError(`Column "${column}" of "${table}" has an unsupported value (${String(value)})`)
}

/**
 * The table a vocabulary tag belongs to (`t:`, `b:`, `u:`, `a:`, `l:`, `m:`, `r:`, `v:`), or undefined for other
 * tags. The name ends at the first colon after the prefix, so for a table whose normalized name
 * contains a colon this is a prefix of it: readers of such tables do not rely on the write log
 * (post-load.ts), which is keyed by this name.
 */
export function tableOfTag(tag: string): string | undefined {
  if (tag.length < 3 || tag[1] !== ':' || !'tbalrvmu'.includes(tag[0]!)) return undefined
  const end = tag[0] === 't' || tag[0] === 'b' || tag[0] === 'u' ? tag.length : tag.indexOf(':', 2)
  return end <= 2 ? undefined : tag.slice(2, end)
}
