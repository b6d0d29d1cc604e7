import { isDecimal } from './codec.js'
import { InvalidTagError } from './errors.js'

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
  const columns = Object.keys(primaryKey).sort()
  if (columns.length === 0) throw new InvalidTagError(`Row tag for "${table}" needs at least one key column`)
  const parts = columns.map((column) => {
    const value = normalizeKeyValue(primaryKey[column], table, column)
    return columns.length === 1 ? value : `${column.toLowerCase()}=${value.length}:${value}`
  })
  return `r:${normalizeTable(table)}:${parts.join('&')}`
}

/** The tags a single-row write must bump. */
export function rowWriteTags(table: string, primaryKey: Readonly<Record<string, unknown>>): string[] {
  return [tableTag(table), rowTag(table, primaryKey)]
}

/** The tags a write to unknown rows (bulk update/delete, raw SQL) must bump. */
export function bulkWriteTags(table: string): string[] {
  return [tableTag(table), bulkTag(table)]
}

export function normalizeTable(table: string): string {
  if (typeof table !== 'string' || table.length === 0)
    throw new InvalidTagError('Table names must be non-empty')
  const unquoted = table.replace(/["`[\]]/g, '')
  const dot = unquoted.lastIndexOf('.')
  return (dot === -1 ? unquoted : unquoted.slice(dot + 1)).toLowerCase()
}

function normalizeKeyValue(value: unknown, table: string, column: string): string {
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
  throw new InvalidTagError(
    `Primary key column "${column}" of "${table}" has an unsupported value (${String(value)})`,
  )
}
