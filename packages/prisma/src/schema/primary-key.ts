import { rowTag } from '@ormcache/core/adapter'
import type { ModelInfo } from './data-model.js'

/** Primary-key field values of one row, by field name. */
export type KeyValues = Record<string, unknown>

/**
 * The row a unique `where` pins down by primary key: `{ id: 1 }`, `{ a_b: { a, b } }`, or each
 * key field given as a plain value. Returns undefined when the primary key is not fully given
 * as plain values (filters such as `{ id: { in: … } }` do not pin one row).
 */
export function keyFromWhere(model: ModelInfo, where: unknown): KeyValues | undefined {
  const pk = model.primaryKey
  if (pk === undefined || !isRecord(where)) return undefined
  const source = pk.fields.length > 1 && isRecord(where[pk.whereKey]) ? where[pk.whereKey] : where
  return pickKey(pk.fields, source as Record<string, unknown>)
}

/** The key of a row returned by Prisma (undefined when `select`/`omit` left a key field out). */
export function keyFromRow(model: ModelInfo, row: unknown): KeyValues | undefined {
  const pk = model.primaryKey
  if (pk === undefined || !isRecord(row)) return undefined
  return pickKey(pk.fields, row)
}

/** True when `data` writes any primary-key field (the row's identity may change). */
export function writesKey(model: ModelInfo, data: unknown): boolean {
  const pk = model.primaryKey
  if (pk === undefined || !isRecord(data)) return pk === undefined
  return pk.fields.some((field) => data[field] !== undefined)
}

export function keyRowTag(model: ModelInfo, key: KeyValues): string {
  const pk = model.primaryKey!
  const columns: Record<string, unknown> = {}
  pk.fields.forEach((field, i) => {
    columns[pk.columns[i]!] = key[field]
  })
  return rowTag(model.table, columns)
}

/** The `where` a user writes for a primary-key lookup of this row: the form write-through fills. */
export function keyWhere(model: ModelInfo, key: KeyValues): Record<string, unknown> {
  const pk = model.primaryKey!
  if (pk.fields.length === 1) return { [pk.whereKey]: key[pk.whereKey] }
  const compound: Record<string, unknown> = {}
  for (const field of pk.fields) compound[field] = key[field]
  return { [pk.whereKey]: compound }
}

function pickKey(fields: readonly string[], source: Record<string, unknown>): KeyValues | undefined {
  const key: KeyValues = {}
  for (const field of fields) {
    const value = source[field]
    if (!isKeyValue(value)) return undefined
    key[field] = value
  }
  return key
}

/** Plain values a row tag can be made of (not filters, not null). */
function isKeyValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'bigint':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object':
      if (value === null) return false
      if (value instanceof Date) return !Number.isNaN(value.getTime())
      if (value instanceof Uint8Array) return true
      return Object.prototype.toString.call(value) === '[object Decimal]'
    default:
      return false
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
