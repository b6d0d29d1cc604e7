import type { Codec, Encoded } from './codec.js'
import { CorruptEntryError } from './errors.js'

/** What an entry says about itself: enough to decide whether it is still valid. */
export interface EntryHead {
  /** Query identity (the key itself, or a second hash of it); must match on read. */
  identity: string
  /** Epoch ms after which the value is stale (served only inside stale-while-revalidate). */
  freshUntil: number
  /** Namespace epoch at the time of the snapshot; `clear()` moves it. */
  epoch: string
  tags: readonly string[]
  versions: readonly string[]
}

/**
 * The envelope around every cached value. It records which tag versions the value was computed
 * under; the entry is valid only while every one of them is still current.
 */
export interface Entry extends EntryHead {
  value: unknown
}

/**
 * Layout (format 2), one line each, so validity is decided before any payload is parsed:
 *
 *   ormcache/2 <freshUntil> <epoch> <version 1> … <version n>     space-separated tokens
 *   ["<identity>", ["<tag 1>", …]]                                  JSON
 *   <data>                                                          JSON
 *   <meta>                                                          JSON, only when present
 *
 * JSON.stringify never emits a raw newline, so the lines split unambiguously. Tokens are ours
 * (newToken: base64url and base36) and never contain spaces; a version that does is refused at
 * write time. The first line is also what the Redis lookup script compares (stores/redis-scripts.ts),
 * so a dead entry is recognised inside Redis and only its head crosses the network.
 * Any other layout (format 1's single JSON object included) reads as corrupt: a miss, never data.
 */
export const ENTRY_MAGIC = 'ormcache/2'

export function encodeEntry(codec: Codec, entry: Entry): string {
  return writeEntry(entry, codec.encode(entry.value))
}

/** Serializes an entry whose value was already encoded (so bad input is rejected up front). */
export function writeEntry(head: EntryHead, { data, meta }: Encoded): string {
  let line = `${ENTRY_MAGIC} ${head.freshUntil} ${token(head.epoch)}`
  for (const version of head.versions) line += ` ${token(version)}`
  const body = JSON.stringify(data)
  if (body === undefined) throw new CorruptEntryError(head.identity, 'value has no JSON form')
  const out = `${line}\n${JSON.stringify([head.identity, head.tags])}\n${body}`
  return meta === undefined ? out : `${out}\n${JSON.stringify(meta)}`
}

/** A parsed head plus where the payload starts in `raw` (-1 when only the head was fetched). */
export interface ReadHead {
  head: EntryHead
  body: number
}

/** Parses the two head lines only; the payload is left untouched. */
export function readHead(raw: string, storeKey: string, identity: string): ReadHead {
  const first = raw.indexOf('\n')
  if (first === -1 || !raw.startsWith(`${ENTRY_MAGIC} `)) {
    throw new CorruptEntryError(storeKey, 'payload is not an ormcache entry (format 2)')
  }
  const fields = raw.slice(ENTRY_MAGIC.length + 1, first).split(' ')
  const freshUntil = Number(fields[0])
  if (fields.length < 2 || !Number.isFinite(freshUntil) || fields[1] === '') {
    throw new CorruptEntryError(storeKey, 'entry head is malformed')
  }
  const second = raw.indexOf('\n', first + 1)
  let meta: unknown
  try {
    meta = JSON.parse(second === -1 ? raw.slice(first + 1) : raw.slice(first + 1, second))
  } catch (cause) {
    throw new CorruptEntryError(storeKey, 'entry head is not valid JSON', { cause })
  }
  if (!isIdentityLine(meta) || meta[1].length !== fields.length - 2) {
    throw new CorruptEntryError(storeKey, 'entry head is malformed')
  }
  if (meta[0] !== identity)
    throw new CorruptEntryError(storeKey, 'identity does not match the key (hash collision)')
  return {
    head: { identity, freshUntil, epoch: fields[1]!, tags: meta[1], versions: fields.slice(2) },
    body: second === -1 ? -1 : second + 1,
  }
}

/** Decodes the payload of an entry whose head was read with `readHead`. */
export function readValue(codec: Codec, raw: string, body: number, storeKey: string): unknown {
  if (body === -1) throw new CorruptEntryError(storeKey, 'entry has no payload')
  const split = raw.indexOf('\n', body)
  let data: unknown
  let meta: unknown
  try {
    data = JSON.parse(split === -1 ? raw.slice(body) : raw.slice(body, split))
    if (split !== -1) meta = JSON.parse(raw.slice(split + 1))
  } catch (cause) {
    throw new CorruptEntryError(storeKey, 'payload is not valid JSON', { cause })
  }
  try {
    return codec.decode(data, meta)
  } catch (cause) {
    throw new CorruptEntryError(storeKey, 'value does not match its type annotations', { cause })
  }
}

/**
 * The value of an entry this process just wrote (`writeEntry`), for another caller's own copy: its
 * head needs no parsing or checking, only skipping (neither head line holds a newline).
 */
export function readOwnValue(codec: Codec, raw: string, storeKey: string): unknown {
  const first = raw.indexOf('\n')
  const second = first === -1 ? -1 : raw.indexOf('\n', first + 1)
  return readValue(codec, raw, second === -1 ? -1 : second + 1, storeKey)
}

function token(version: string): string {
  if (version.length === 0 || /\s/.test(version)) {
    throw new CorruptEntryError('', 'a tag version is not a token (empty or contains whitespace)')
  }
  return version
}

function isIdentityLine(value: unknown): value is [string, string[]] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    Array.isArray(value[1]) &&
    value[1].every((t) => typeof t === 'string')
  )
}
