import { Decimal } from 'decimal.js'
import { NotSerializableError } from './errors.js'
import { sameList } from './same-list.js'

/**
 * Value codec. A value becomes `{ data, meta }`: `data` is plain JSON, and `meta` is a tree that
 * mirrors only the paths holding non-JSON values (Date, BigInt, Decimal, bytes, Map, Set,
 * undefined, NaN/±Infinity/-0) or stored in another layout (tables, below). Type information
 * lives beside the data, never inside it, so no string or object shape in user data can be
 * mistaken for a marker. Values without either have no meta and decode with a bare JSON.parse.
 *
 * Tables: a list of rows that all have the same keys in the same order (what an ORM returns) is
 * stored as `[keys, values of row 1, values of row 2, …]` under the container code `T`. A list of
 * 78 joined TypeORM rows shrinks by almost half (the column aliases were most of it), which is
 * less to send, store and parse on every hit; rebuilding the rows costs less than parsing their
 * keys. When every row carries the same annotations (a Date column), they are written once for
 * all rows (`{ "*": … }`) instead of once per row.
 */

/** A leaf code, a container `[code, childMeta]`, or a tree of per-key annotations. */
export type Meta = string | [string, MetaTree | string] | MetaTree
export interface MetaTree {
  [key: string]: Meta
}

/** Something that builds decimals from strings: decimal.js, Prisma's Decimal, … */
export type DecimalConstructor = new (value: string) => unknown

export interface Encoded {
  data: unknown
  meta: Meta | undefined
}

const LEAF = {
  undefined: 'u',
  date: 'D',
  bigint: 'B',
  number: 'N',
  decimal: 'X',
  buffer: 'b',
  bytes: 'U',
} as const
const CONTAINER = { map: 'M', set: 'S', table: 'T' } as const
/** Annotations that hold for every row of a table. */
const EVERY_ROW = '*'
/** Fewest rows written as a table: one row would only move its keys. */
const TABLE_MIN_ROWS = 2

export interface EncodeOptions {
  /**
   * Store lists of same-shaped rows as tables (default true). Formats read by other versions of
   * this package that may predate tables (queued write-behind values) turn it off.
   */
  tables?: boolean
}

export class Codec {
  private decimalCtor: DecimalConstructor = Decimal

  /** Decode decimals into this constructor (e.g. Prisma's `Prisma.Decimal`) instead of decimal.js. */
  useDecimal(ctor: DecimalConstructor): void {
    this.decimalCtor = ctor
  }

  encode(value: unknown, options: EncodeOptions = {}): Encoded {
    const tables: Tables | undefined = options.tables === false ? undefined : new Map()
    if (!needsMeta(value, undefined, '$', StepKind.Root, new Set(), 0, tables))
      return { data: value, meta: undefined }
    return encodeSpecial(value, tables)
  }

  /**
   * A deep copy of a value the codec accepts, without a JSON round trip: L1 hands every caller
   * its own copy of a decoded value in about the time a shallow walk takes.
   */
  clone<T>(value: T): T {
    return copy(value) as T
  }

  /** Throws on malformed meta; callers treat that as a corrupt entry. */
  decode(data: unknown, meta: unknown): unknown {
    if (meta === undefined) return data
    return revive(data, meta, this.decimalCtor)
  }
}

// ---- encoding -------------------------------------------------------------------------------

/**
 * Deepest nesting a cached value may have. JSON.stringify, the decoder and this walk all recurse,
 * and a few thousand levels overflow the stack with a plain RangeError that would look like a
 * store fault; past this depth the value is refused with a typed error instead.
 */
export const MAX_VALUE_DEPTH = 1_000

/**
 * The lists of one encode that are written as tables, with their keys; found by the validating
 * walk, so the writing walk does not look at every row's keys again. Undefined: no tables.
 */
type Tables = Map<readonly unknown[], string[]>

/**
 * Where a value sits, as the steps from the root, for error messages only: the walk passes its
 * parent step and its own key, and a container makes one step for its children, so a list of
 * rows does not build a path string per cell (it did, most of a list fill's encode garbage).
 */
interface PathStep {
  parent: PathStep | undefined
  key: string | number
  kind: StepKind
}
enum StepKind {
  Root,
  Member,
  Index,
  Entry,
}

function pathText(parent: PathStep | undefined, key: string | number, kind: StepKind): string {
  const prefix = parent === undefined ? '' : pathText(parent.parent, parent.key, parent.kind)
  switch (kind) {
    case StepKind.Root:
      return '$'
    case StepKind.Member:
      return `${prefix}.${key}`
    case StepKind.Index:
      return `${prefix}[${key}]`
    case StepKind.Entry:
      return `${prefix}<${key}>`
  }
}

const PLAIN = 0
const SPECIAL = 1
const WALK = 2

/**
 * The leaves JSON holds as they are (PLAIN) or not (SPECIAL: a number JSON cannot hold); WALK is
 * anything else, which `needsMeta` judges (and refuses, for functions and symbols). The walks ask
 * it before calling into `needsMeta` or `encodeSpecial`: most cells of a row are plain.
 */
function plainVerdict(value: unknown): typeof PLAIN | typeof SPECIAL | typeof WALK {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return PLAIN
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? PLAIN : SPECIAL
    case 'object':
      return value === null ? PLAIN : WALK
    default:
      return WALK
  }
}

/**
 * Validates the whole value and reports whether any part needs an annotation or is a table
 * (recorded in `tables`). `parent`, `key` and `kind` say where it is (PathStep).
 */
function needsMeta(
  value: unknown,
  parent: PathStep | undefined,
  key: string | number,
  kind: StepKind,
  seen: Set<object>,
  depth: number,
  tables: Tables | undefined,
): boolean {
  const verdict = plainVerdict(value)
  if (verdict !== WALK) return verdict === SPECIAL
  switch (typeof value) {
    case 'undefined':
    case 'bigint':
      return true
    case 'function':
      throw new NotSerializableError(pathText(parent, key, kind), 'a function')
    case 'symbol':
      throw new NotSerializableError(pathText(parent, key, kind), 'a symbol')
  }
  const obj = value as object
  if (seen.has(obj)) throw new NotSerializableError(pathText(parent, key, kind), 'a circular reference')
  if (depth >= MAX_VALUE_DEPTH) {
    throw new NotSerializableError(
      pathText(parent, key, kind),
      `a value nested deeper than ${MAX_VALUE_DEPTH} levels`,
    )
  }
  if (Array.isArray(obj)) {
    seen.add(obj)
    const step: PathStep = { parent, key, kind }
    let special = false
    for (let i = 0; i < obj.length; i++) {
      // Holes are undefined and need meta; `in` catches them without materializing.
      if (!(i in obj)) special = true
      else if (
        plainVerdict(obj[i]) !== PLAIN &&
        needsMeta(obj[i], step, i, StepKind.Index, seen, depth + 1, tables)
      )
        special = true
    }
    seen.delete(obj)
    const keys = tables === undefined ? undefined : tableKeys(obj)
    if (keys === undefined) return special
    tables?.set(obj, keys)
    return true
  }
  const proto = Object.getPrototypeOf(obj)
  if (proto === Object.prototype || proto === null) {
    seen.add(obj)
    const step: PathStep = { parent, key, kind }
    let special = false
    for (const name of Object.keys(obj)) {
      const child = (obj as Record<string, unknown>)[name]
      if (
        plainVerdict(child) !== PLAIN &&
        needsMeta(child, step, name, StepKind.Member, seen, depth + 1, tables)
      )
        special = true
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) {
      throw new NotSerializableError(pathText(parent, key, kind), 'an object with symbol keys')
    }
    seen.delete(obj)
    return special
  }
  if (obj instanceof Date || obj instanceof Uint8Array || isDecimal(obj)) return true
  if (obj instanceof Map || obj instanceof Set) {
    seen.add(obj)
    const step: PathStep = { parent, key, kind }
    const entries = obj instanceof Map ? [...obj].flat() : [...obj]
    entries.forEach((item, i) => {
      needsMeta(item, step, i, StepKind.Entry, seen, depth + 1, tables)
    })
    seen.delete(obj)
    return true
  }
  throw new NotSerializableError(
    pathText(parent, key, kind),
    `an instance of ${proto?.constructor?.name ?? 'an unknown class'}`,
  )
}

function encodeSpecial(value: unknown, tables: Tables | undefined): Encoded {
  switch (typeof value) {
    case 'undefined':
      return { data: null, meta: LEAF.undefined }
    case 'bigint':
      return { data: value.toString(), meta: LEAF.bigint }
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return { data: value, meta: undefined }
      return { data: Object.is(value, -0) ? '-0' : String(value), meta: LEAF.number }
    case 'object':
      break
    default:
      return { data: value, meta: undefined }
  }
  if (value === null) return { data: null, meta: undefined }
  if (value instanceof Date) {
    const time = value.getTime()
    return { data: Number.isNaN(time) ? null : time, meta: LEAF.date }
  }
  if (value instanceof Uint8Array) {
    const isBuffer = Buffer.isBuffer(value)
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    return { data: bytes.toString('base64'), meta: isBuffer ? LEAF.buffer : LEAF.bytes }
  }
  if (isDecimal(value)) return { data: String(value), meta: LEAF.decimal }
  if (value instanceof Map) return container(CONTAINER.map, [...value].flat(), tables)
  if (value instanceof Set) return container(CONTAINER.set, [...value], tables)
  if (Array.isArray(value)) {
    const keys = tables?.get(value)
    if (tables !== undefined && keys !== undefined)
      return encodeTable(value as Record<string, unknown>[], keys, tables)
    const data: unknown[] = new Array(value.length)
    const tree: MetaTree = {}
    let annotated = false
    for (let i = 0; i < value.length; i++) {
      const child = encodeSpecial(value[i], tables)
      data[i] = child.data
      if (child.meta !== undefined) {
        tree[i] = child.meta
        annotated = true
      }
    }
    return { data, meta: annotated ? tree : undefined }
  }
  const data: Record<string, unknown> = {}
  const tree: MetaTree = {}
  let annotated = false
  for (const key of Object.keys(value)) {
    const child = encodeSpecial((value as Record<string, unknown>)[key], tables)
    defineOwn(data, key, child.data)
    if (child.meta !== undefined) {
      defineOwn(tree, key, child.meta)
      annotated = true
    }
  }
  return { data, meta: annotated ? tree : undefined }
}

function container(code: string, items: unknown[], tables: Tables | undefined): Encoded {
  const inner = encodeSpecial(items, tables)
  return { data: inner.data, meta: inner.meta === undefined ? [code, ''] : [code, inner.meta as MetaTree] }
}

/**
 * The keys shared by every item, when the list is at least TABLE_MIN_ROWS plain objects with the
 * same own keys in the same order; otherwise undefined. `__proto__` keys keep the object layout
 * (they need defineOwn to come back as keys).
 */
function tableKeys(items: readonly unknown[]): string[] | undefined {
  if (items.length < TABLE_MIN_ROWS) return undefined
  let keys: string[] | undefined
  for (let i = 0; i < items.length; i++) {
    if (!(i in items)) return undefined
    const item = items[i]
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined
    const proto = Object.getPrototypeOf(item)
    if (proto !== Object.prototype && proto !== null) return undefined
    const own = Object.keys(item)
    if (keys === undefined) {
      if (own.length === 0 || own.includes('__proto__')) return undefined
      keys = own
    } else if (!sameList(keys, own)) return undefined
  }
  return keys
}

function encodeTable(rows: readonly Record<string, unknown>[], keys: string[], tables: Tables): Encoded {
  const data: unknown[] = new Array(rows.length + 1)
  data[0] = keys
  // Annotations per row are keyed by the row's index in `data`, so a decoder can apply them
  // with the generic tree walk; identical ones collapse into EVERY_ROW.
  const perRow: MetaTree = {}
  let first: MetaTree | undefined
  let firstCount = 0
  let uniform = true
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    const values: unknown[] = new Array(keys.length)
    let rowMeta: MetaTree | undefined
    let count = 0
    // Whether every annotation of this row equals the first row's in the same column; with as
    // many annotations as the first row, the two rows' annotations are the same (sameMeta).
    let likeFirst = true
    for (let c = 0; c < keys.length; c++) {
      const cell = row[keys[c]!]
      if (plainVerdict(cell) === PLAIN) {
        values[c] = cell
        continue
      }
      const child = encodeSpecial(cell, tables)
      values[c] = child.data
      if (child.meta !== undefined) {
        rowMeta ??= {}
        rowMeta[c] = child.meta
        count++
        if (r > 0 && likeFirst && !sameMeta(first?.[c], child.meta)) likeFirst = false
      }
    }
    data[r + 1] = values
    if (rowMeta !== undefined) perRow[r + 1] = rowMeta
    if (r === 0) {
      first = rowMeta
      firstCount = count
    } else if (uniform && (!likeFirst || count !== firstCount)) uniform = false
  }
  if (first === undefined && uniform) return { data, meta: [CONTAINER.table, ''] }
  return { data, meta: [CONTAINER.table, uniform ? { [EVERY_ROW]: first! } : perRow] }
}

function sameMeta(a: Meta | undefined, b: Meta | undefined): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a[0] === b[0] && sameMeta(a[1], b[1])
  }
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const key of keys) if (!Object.hasOwn(b, key) || !sameMeta(a[key], b[key])) return false
  return true
}

/** decimal.js (and copies of it, such as Prisma's) tag their instances with Symbol.toStringTag. */
export function isDecimal(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.prototype.toString.call(value) === '[object Decimal]'
  )
}

// ---- copying --------------------------------------------------------------------------------

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i])
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      const item = copy((value as Record<string, unknown>)[key])
      if (key === '__proto__') defineOwn(out, key, item)
      else out[key] = item
    }
    return out
  }
  if (value instanceof Date) return new Date(value.getTime())
  if (Buffer.isBuffer(value)) return Buffer.from(value)
  if (value instanceof Uint8Array) return new Uint8Array(value)
  // Decimals are immutable, but a copy keeps their own class (decimal.js or the ORM's).
  if (isDecimal(value)) return new (value.constructor as DecimalConstructor)(String(value))
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [copy(k), copy(v)]))
  if (value instanceof Set) return new Set([...value].map(copy))
  throw new NotSerializableError('$', `an instance of ${proto?.constructor?.name ?? 'an unknown class'}`)
}

// ---- decoding -------------------------------------------------------------------------------

function revive(data: unknown, meta: unknown, decimal: DecimalConstructor): unknown {
  if (typeof meta === 'string') return reviveLeaf(data, meta, decimal)
  if (Array.isArray(meta)) {
    const [code, childMeta] = meta as [unknown, unknown]
    if (!Array.isArray(data)) throw new TypeError(`container ${String(code)} without array data`)
    if (code === CONTAINER.table) return reviveTable(data, childMeta, decimal)
    const items = childMeta === '' ? data : (revive(data, childMeta, decimal) as unknown[])
    if (code === CONTAINER.set) return new Set(items)
    if (code === CONTAINER.map) {
      const map = new Map()
      for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1])
      return map
    }
    throw new TypeError(`unknown container code ${String(code)}`)
  }
  if (typeof meta !== 'object' || meta === null) throw new TypeError('meta tree does not match data')
  return reviveMembers(data, meta as MetaTree, Object.keys(meta), decimal)
}

/** Revives the members `keys` (the keys of `meta`, a tree) of `data` in place. */
function reviveMembers(
  data: unknown,
  meta: MetaTree,
  keys: readonly string[],
  decimal: DecimalConstructor,
): unknown {
  if (typeof data !== 'object' || data === null) throw new TypeError('meta tree does not match data')
  const target = data as Record<string, unknown>
  for (const key of keys) {
    if (!Object.hasOwn(target, key)) throw new TypeError(`meta names missing key ${key}`)
    defineOwn(target, key, revive(target[key], meta[key], decimal))
  }
  return data
}

function reviveTable(data: unknown[], meta: unknown, decimal: DecimalConstructor): unknown[] {
  if (meta !== '') {
    if (typeof meta === 'object' && meta !== null && Object.hasOwn(meta, EVERY_ROW)) {
      if (Object.keys(meta).length !== 1)
        throw new TypeError('table annotations mix every row and single rows')
      const every = (meta as MetaTree)[EVERY_ROW]
      if (typeof every === 'object' && every !== null && !Array.isArray(every)) {
        // The shared annotations' keys once for all rows, not once per row.
        const keys = Object.keys(every)
        for (let r = 1; r < data.length; r++) data[r] = reviveMembers(data[r], every, keys, decimal)
      } else {
        for (let r = 1; r < data.length; r++) data[r] = revive(data[r], every, decimal)
      }
    } else {
      revive(data, meta, decimal)
    }
  }
  const keys = data[0]
  if (
    !Array.isArray(keys) ||
    keys.length === 0 ||
    !keys.every((key) => typeof key === 'string' && key !== '__proto__')
  ) {
    throw new TypeError('table without a key row')
  }
  const rows: Record<string, unknown>[] = new Array(data.length - 1)
  for (let r = 1; r < data.length; r++) {
    const values = data[r]
    if (!Array.isArray(values) || values.length !== keys.length)
      throw new TypeError('table row does not match its keys')
    const row: Record<string, unknown> = {}
    for (let c = 0; c < keys.length; c++) row[keys[c] as string] = values[c]
    rows[r - 1] = row
  }
  return rows
}

function reviveLeaf(data: unknown, code: string, decimal: DecimalConstructor): unknown {
  switch (code) {
    case LEAF.undefined:
      return undefined
    case LEAF.date:
      if (data === null) return new Date(Number.NaN)
      if (typeof data !== 'number') throw new TypeError('date is not a number')
      return new Date(data)
    case LEAF.bigint:
      return BigInt(asString(data))
    case LEAF.number:
      return asString(data) === '-0' ? -0 : Number(data)
    case LEAF.decimal:
      return new decimal(asString(data))
    case LEAF.buffer:
      return Buffer.from(asString(data), 'base64')
    case LEAF.bytes: {
      const buf = Buffer.from(asString(data), 'base64')
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    }
    default:
      throw new TypeError(`unknown type code ${code}`)
  }
}

function asString(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError('expected a string payload')
  return value
}

/** Plain assignment of "__proto__" would change the prototype instead of adding a key. */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    target[key] = value
  }
}
