import type { Codec, Encoded } from './codec.js'
import { CorruptEntryError } from './errors.js'

/**
 * The envelope around every cached value. It records which tag versions the value was computed
 * under; the entry is valid only while every one of them is still current.
 */
export interface Entry {
  /** Query identity (the key itself, or a second hash of it); must match on read. */
  identity: string
  /** Epoch ms after which the value is stale (served only inside stale-while-revalidate). */
  freshUntil: number
  /** Namespace epoch at the time of the snapshot; `clear()` moves it. */
  epoch: string
  tags: readonly string[]
  versions: readonly string[]
  value: unknown
}

/** Bumped whenever the envelope layout changes; other formats read as corrupt, never as data. */
export const ENTRY_FORMAT = 1

interface Wire {
  f: number
  i: string
  x: number
  g: string
  t: string[]
  v: string[]
  d: unknown
  m?: unknown
}

export function encodeEntry(codec: Codec, entry: Entry): string {
  return writeEntry(entry, codec.encode(entry.value))
}

/** Serializes an entry whose value was already encoded (so bad input is rejected up front). */
export function writeEntry(header: Omit<Entry, 'value'>, { data, meta }: Encoded): string {
  const entry = header
  const wire: Wire = {
    f: ENTRY_FORMAT,
    i: entry.identity,
    x: entry.freshUntil,
    g: entry.epoch,
    t: entry.tags as string[],
    v: entry.versions as string[],
    d: data,
  }
  if (meta !== undefined) wire.m = meta
  return JSON.stringify(wire)
}

export function decodeEntry(codec: Codec, raw: string, storeKey: string, identity: string): Entry {
  let wire: Wire
  try {
    wire = JSON.parse(raw)
  } catch (cause) {
    throw new CorruptEntryError(storeKey, 'payload is not valid JSON', { cause })
  }
  if (!isWire(wire)) throw new CorruptEntryError(storeKey, 'payload is not an ormcache entry')
  if (wire.i !== identity)
    throw new CorruptEntryError(storeKey, 'identity does not match the key (hash collision)')
  let value: unknown
  try {
    value = codec.decode(wire.d, wire.m)
  } catch (cause) {
    throw new CorruptEntryError(storeKey, 'value does not match its type annotations', { cause })
  }
  return { identity: wire.i, freshUntil: wire.x, epoch: wire.g, tags: wire.t, versions: wire.v, value }
}

function isWire(value: unknown): value is Wire {
  if (typeof value !== 'object' || value === null) return false
  const w = value as Partial<Wire>
  return (
    w.f === ENTRY_FORMAT &&
    typeof w.i === 'string' &&
    typeof w.x === 'number' &&
    typeof w.g === 'string' &&
    Array.isArray(w.t) &&
    Array.isArray(w.v) &&
    w.t.length === w.v.length &&
    w.t.every((t) => typeof t === 'string') &&
    w.v.every((v) => typeof v === 'string') &&
    'd' in w
  )
}
