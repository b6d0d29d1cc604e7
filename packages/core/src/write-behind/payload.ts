import type { Codec } from '../codec.js'
import { CorruptEntryError } from '../errors.js'

/**
 * Queued values travel as text through the cache's codec, so Dates, BigInts, Decimals and bytes
 * reach `flush` intact in any process, and the flusher never shares a mutable object with the
 * caller of `write()`. The leading format number lets a future layout be told apart.
 */
const FORMAT = 1

export function encodePayload(codec: Codec, value: unknown): string {
  // A queued value may be flushed by a process still running an older version (a rolling
  // deploy), so it keeps the row layout every version reads; tables are for cache entries.
  const { data, meta } = codec.encode(value, { tables: false })
  return JSON.stringify(meta === undefined ? [FORMAT, data ?? null] : [FORMAT, data ?? null, meta])
}

export function decodePayload(codec: Codec, payload: string, id: string): unknown {
  let wire: unknown
  try {
    wire = JSON.parse(payload)
  } catch (cause) {
    throw new CorruptEntryError(`write-behind ${id}`, 'payload is not valid JSON', { cause })
  }
  if (!Array.isArray(wire) || wire[0] !== FORMAT || wire.length < 2 || wire.length > 3) {
    throw new CorruptEntryError(`write-behind ${id}`, 'payload is not a write-behind value')
  }
  try {
    return codec.decode(wire[1], wire[2])
  } catch (cause) {
    throw new CorruptEntryError(`write-behind ${id}`, 'value does not match its type annotations', { cause })
  }
}
