import { isDecimal } from './codec.js'
import { InvalidKeyError, InvalidOptionError, InvalidTagError } from './errors.js'
import { identityHash, keyHash } from './hash.js'

/**
 * Canonical query identity. `buildKey` turns any structured description of a query (model,
 * operation, arguments, client context) into one string that is equal for equal queries and
 * different for different ones: object key order is ignored, and every value carries its type,
 * so `1`, `"1"`, `1n`, `null`, `undefined` and a Date can never collide.
 */

/** Lets an adapter name host-library sentinels (e.g. Prisma's DbNull/JsonNull) by identity. */
export type KeyEncoder = (value: object) => string | undefined

export interface BuildKeyOptions {
  encoders?: readonly KeyEncoder[]
}

export function buildKey(parts: readonly unknown[], options: BuildKeyOptions = {}): string {
  try {
    return canonical(parts, options.encoders ?? [], [], 0)
  } catch (error) {
    if (!(error instanceof KeyPathError)) throw error
    throw new InvalidKeyError(`Cannot build a cache key from ${error.what} at ${error.path()}`)
  }
}

/** Deepest nesting a key part may have; deeper would overflow the stack with a plain RangeError. */
export const MAX_KEY_DEPTH = 1_000

/**
 * A value that cannot be keyed, thrown up through the recursion: each level names its step on
 * the way out, so the path of the bad value is built only when there is one (building it for
 * every member of every key was most of a key's cost).
 */
class KeyPathError extends Error {
  private readonly steps: string[] = []

  constructor(readonly what: string) {
    super(what)
  }

  /** Called by each enclosing level, innermost first. */
  step(text: string): this {
    this.steps.push(text)
    return this
  }

  path(): string {
    return `$${this.steps.toReversed().join('')}`
  }
}

/**
 * `ancestors`: the containers enclosing `value`, outermost first. A cycle can only pass through
 * them, and a key's nesting is shallow, so a scan of this stack is cheaper than a Set (bounded by
 * MAX_KEY_DEPTH).
 */
function canonical(
  value: unknown,
  encoders: readonly KeyEncoder[],
  ancestors: object[],
  depth: number,
): string {
  switch (typeof value) {
    case 'string':
      return `s${value.length}:${value}`
    case 'number':
      return `n${Object.is(value, -0) ? '-0' : String(value)};`
    case 'bigint':
      return `i${value.toString()};`
    case 'boolean':
      return value ? 'T' : 'F'
    case 'undefined':
      return 'U'
    case 'function':
    case 'symbol':
      throw new KeyPathError(`a ${typeof value}`)
  }
  if (value === null) return 'N'
  const obj = value as object
  for (const encode of encoders) {
    const custom = encode(obj)
    if (custom !== undefined) return `c${custom.length}:${custom}`
  }
  if (ancestors.includes(obj)) throw new KeyPathError('a circular value')
  if (depth >= MAX_KEY_DEPTH) throw new KeyPathError(`a value nested deeper than ${MAX_KEY_DEPTH} levels`)
  ancestors.push(obj)
  let out: string
  if (Array.isArray(obj)) {
    out = '['
    for (let i = 0; i < obj.length; i++) out += `${member(obj[i], encoders, ancestors, depth, `[${i}]`)},`
    out += ']'
  } else if (obj instanceof Date) {
    out = `d${obj.getTime()};`
  } else if (obj instanceof Uint8Array) {
    const b64 = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64')
    out = `b${b64.length}:${b64}`
  } else if (isDecimal(obj)) {
    const text = obj.toString()
    out = `x${text.length}:${text}`
  } else if (obj instanceof Map || obj instanceof Set) {
    // Members are ordered by their own canonical form so insertion order does not matter.
    const members = [...obj].map((item) => member(item, encoders, ancestors, depth, '<>'))
    out = `${obj instanceof Map ? 'M[' : 'S['}${members.sort().join(',')}]`
  } else {
    const proto = Object.getPrototypeOf(obj)
    // A class instance keeps its class name, so two sentinel objects of different classes differ.
    const name = proto === Object.prototype || proto === null ? '' : (proto?.constructor?.name ?? '?')
    out = `{${name}|`
    const record = obj as Record<string, unknown>
    for (const key of Object.keys(record).sort())
      out += `${key.length}:${key}=${member(record[key], encoders, ancestors, depth, `.${key}`)},`
    out += '}'
  }
  ancestors.pop()
  return out
}

/** A member of a container: its canonical form, or the error that names where it failed. */
function member(
  value: unknown,
  encoders: readonly KeyEncoder[],
  ancestors: object[],
  depth: number,
  step: string,
): string {
  try {
    return canonical(value, encoders, ancestors, depth + 1)
  } catch (error) {
    throw error instanceof KeyPathError ? error.step(step) : error
  }
}

// ---- store key forms ------------------------------------------------------------------------

const SAFE = /^[A-Za-z0-9._:\-/|@#=+,]+$/
const SAFE_PREFIX = /^[A-Za-z0-9._:\-/|@#=+,]*/
/** Longest user key or tag kept readable in the store key; longer ones are hashed. */
export const MAX_DIRECT = 160
const MAX_LABEL = 40
const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/

export interface EntryAddress {
  /** The caller's key. */
  key: string
  storeKey: string
  /** Stored inside the entry and compared on read, so a hash collision is a miss, not wrong data. */
  identity: string
}

/**
 * All store keys of one namespace. Every form is Memcached-safe: at most 250 bytes of printable
 * ASCII with no spaces, whatever the user key or tag contains.
 */
export class KeySpace {
  readonly namespace: string
  readonly globalKey: string
  /** A direct tag's store key is this prefix followed by the tag (read by the Redis LOOKUP script). */
  readonly tagPrefix: string

  constructor(namespace: string) {
    if (!NAMESPACE.test(namespace)) {
      throw new InvalidOptionError('namespace', 'use 1-64 characters from A-Z a-z 0-9 . _ -')
    }
    this.namespace = namespace
    this.globalKey = `${namespace}:g`
    this.tagPrefix = `${namespace}:t:`
  }

  /** Hot keys repeat: their two hashes are computed once (addresses are immutable). */
  private readonly addresses = new Memo<EntryAddress>()
  private readonly tags = new Memo<string>(TAG_MEMO_ENTRIES, TAG_MEMO_KEY_CHARS)

  entry(key: string): EntryAddress {
    if (typeof key !== 'string' || key.length === 0) {
      throw new InvalidKeyError('Cache keys must be non-empty strings')
    }
    const known = this.addresses.get(key)
    if (known !== undefined) return known
    const address: EntryAddress =
      key.length <= MAX_DIRECT && SAFE.test(key)
        ? { key, storeKey: `${this.namespace}:e:${key}`, identity: key }
        : { key, storeKey: `${this.namespace}:e:${label(key)}~${keyHash(key)}`, identity: identityHash(key) }
    this.addresses.set(key, Object.freeze(address))
    return address
  }

  tag(tag: string): string {
    if (typeof tag !== 'string' || tag.length === 0)
      throw new InvalidTagError('Tags must be non-empty strings')
    const known = this.tags.get(tag)
    if (known !== undefined) return known
    const storeKey =
      tag.length <= MAX_DIRECT && SAFE.test(tag)
        ? `${this.tagPrefix}${tag}`
        : `${this.tagPrefix}${label(tag)}~${keyHash(tag)}`
    this.tags.set(tag, storeKey)
    return storeKey
  }

  /**
   * The write log of a table (stores/write-log.ts), given its table tag's store key. Like a
   * lease, its hash tag is that whole key (tag keys never contain a brace), so on a Redis
   * Cluster the log and the table tag share a slot and one script moves both.
   */
  log(tableTagKey: string): string {
    return `${this.namespace}:w:{${tableTagKey}}`
  }

  /**
   * The lease of an entry. Its hash tag is the entry's whole store key (which never contains a
   * brace), so on a Redis Cluster the lease lives in the entry's slot and one script or
   * pipeline can read the entry and take the lease, or store the entry and release the lease.
   */
  lease(storeKey: string): string {
    return `${this.namespace}:l:{${storeKey}}`
  }

  /** Read (never written) by the breaker's probe on stores without `ping`. */
  probe(): string {
    return `${this.namespace}:probe`
  }
}

const MEMO_ENTRIES = 4_096
const MEMO_KEY_CHARS = 4_096

/**
 * Tags outnumber entries: a list hit names the row tag of every row it returned, so a working
 * set of a few hundred hot lists already holds thousands of tags (the bench's Zipf workload:
 * ~7k). A short tag costs ~100 bytes here; long ones are rare (over 160 characters they are
 * hashed into their store key anyway) and are not memoized past 512 characters.
 */
const TAG_MEMO_ENTRIES = 8_192
const TAG_MEMO_KEY_CHARS = 512

/**
 * A bounded map in two generations: when the current one is full it becomes the previous one
 * and a new one starts, and a hit in the previous generation moves the key forward. So a working
 * set up to `maxEntries` never misses, one up to twice that mostly hits, and memory stays bounded
 * by two generations (the old memo cleared everything at once: a working set just over its size
 * recomputed every key on every use).
 */
export class Memo<V> {
  private current = new Map<string, V>()
  private previous = new Map<string, V>()

  constructor(
    private readonly maxEntries = MEMO_ENTRIES,
    private readonly maxKeyChars = MEMO_KEY_CHARS,
  ) {}

  get(key: string): V | undefined {
    const found = this.current.get(key)
    if (found !== undefined || this.previous.size === 0) return found
    const old = this.previous.get(key)
    if (old !== undefined) {
      this.previous.delete(key)
      this.set(key, old)
    }
    return old
  }

  set(key: string, value: V): void {
    if (key.length > this.maxKeyChars) return // bounded memory: keys longer than this are not kept
    if (this.current.size >= this.maxEntries && !this.current.has(key)) {
      this.previous = this.current
      this.current = new Map()
    }
    this.current.set(key, value)
  }

  delete(key: string): void {
    this.current.delete(key)
    this.previous.delete(key)
  }
}

function label(text: string): string {
  return (SAFE_PREFIX.exec(text)?.[0] ?? '').slice(0, MAX_LABEL)
}
