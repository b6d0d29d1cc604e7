import type { Branch, Operand } from '../sql/predicate.js'
import type { KeyColumn } from './entity-schema.js'

export type RowKey = Record<string, string>

/** Past this many rows a statement is treated as a bulk write (still correct, fewer store writes). */
export const MAX_ROWS = 500

const CANONICAL_INTEGER = /^-?(0|[1-9][0-9]*)$/

/**
 * A key value both ORMs and every database agree on, or undefined. Only integer keys qualify:
 * text keys compare under collations (case-insensitive on MySQL, trailing spaces, uuid
 * spellings), so two spellings of one row could get two different row tags.
 */
export function canonicalKey(column: KeyColumn, value: unknown): string | undefined {
  if (column.kind !== 'integer') return undefined
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return CANONICAL_INTEGER.test(value) ? value : undefined
  return undefined
}

export function operandValue(operand: Operand, params: readonly unknown[]): unknown {
  if (operand.kind === 'param') return operand.index < params.length ? params[operand.index] : undefined
  return operand.text
}

/**
 * The primary keys of every row a WHERE clause can match, or undefined when some branch does
 * not pin every key column to known values.
 */
export function rowsOfBranches(
  branches: readonly Branch[],
  primary: readonly KeyColumn[],
  params: readonly unknown[],
): RowKey[] | undefined {
  if (primary.length === 0) return undefined
  const rows = new Map<string, RowKey>()
  for (const branch of branches) {
    // Every combination of the values the branch pins is a row. Key values are canonical integers
    // (canonicalKey), so their comma-joined text names a row exactly: it dedupes rows across
    // branches without a JSON text per row, and a one-column key (the common write, `id = $1`)
    // makes one object per value, with no spread.
    let partial: { row: RowKey; id: string }[] | undefined
    for (const column of primary) {
      const values = pinnedValues(branch, column, params)
      if (values === undefined) return undefined
      partial =
        partial === undefined
          ? values.map((value) => ({ row: { [column.name]: value }, id: value }))
          : partial.flatMap(({ row, id }) =>
              values.map((value) => ({ row: { ...row, [column.name]: value }, id: `${id},${value}` })),
            )
      if (partial.length > MAX_ROWS) return undefined
    }
    for (const { row, id } of partial!) if (!rows.has(id)) rows.set(id, row)
    if (rows.size > MAX_ROWS) return undefined
  }
  return [...rows.values()]
}

/** The canonical key values `branch` pins `column` to, or undefined when it pins no known value. */
function pinnedValues(branch: Branch, column: KeyColumn, params: readonly unknown[]): string[] | undefined {
  const operands = pinOf(branch, column.name)
  if (operands === undefined) return undefined
  const values: string[] = []
  for (const operand of operands) {
    const value = canonicalKey(column, operandValue(operand, params))
    if (value === undefined) return undefined
    values.push(value)
  }
  return values
}

function pinOf(branch: Branch, name: string): readonly Operand[] | undefined {
  const exact = branch.get(name)
  if (exact !== undefined) return exact
  const lower = name.toLowerCase()
  for (const [key, operands] of branch) if (key.toLowerCase() === lower) return operands
  return undefined
}
