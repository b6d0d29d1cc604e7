import { ENTRY_MAGIC, type EntryHead, type ReadHead } from './entry.js'
import type { EntryAddress } from './query-key.js'
import { sameList } from './same-list.js'

const PREFIX = `${ENTRY_MAGIC} `
const NEWLINE = 10

/** Per address: the identity line of its last tags (addresses are memoized and immutable). */
const lines = new WeakMap<EntryAddress, { tags: readonly string[]; line: string }>()

/**
 * The identity line an entry of `address` stored under `tags` has (entry.ts writeEntry):
 * JSON.stringify is deterministic and injective on [string, string[]], so an equal line means
 * the same identity and the same tags, in order.
 */
function identityLine(address: EntryAddress, tags: readonly string[]): string {
  const known = lines.get(address)
  if (known !== undefined && sameList(known.tags, tags)) return known.line
  const line = JSON.stringify([address.identity, tags])
  lines.set(address, { tags: tags.slice(), line })
  return line
}

/**
 * The head of `raw` if it is exactly the head an entry of `address` under `tags`, written at
 * namespace epoch `epoch` with tag versions `versions`, has; undefined for any other entry,
 * including a malformed one (the hit read then takes the full lookup, which parses the entry
 * with `readHead`, decides, and reports corruption). The hit read's fast path: the head is
 * compared where it lies in `raw`, so a current entry costs no split, no JSON.parse of the
 * identity line and no per-field strings. Same verdict as `readHead` + sameList + isCurrent.
 *
 * The rest of the first line is compared as one string with `epoch versions…` joined by single
 * spaces. A stored first line holds exactly one token per tag after the epoch (writeEntry; the
 * identity line, compared next, fixes the tags), each non-empty and without a space (writeEntry
 * refuses others). So the stored text has one space between tokens and no other. A joined text
 * equal to it (up to the line's end, so it holds no newline) has as many spaces, hence none inside
 * an asked token and no empty one (that would put two spaces side by side or one at an end), and
 * its tokens are the stored ones, in order. One slice compare replaced one `startsWith` per
 * token: ~150 ns each, 18 µs for a list of 80 rows, the largest item of a list hit's own CPU.
 */
export function matchHead(
  raw: string,
  address: EntryAddress,
  tags: readonly string[],
  epoch: string,
  versions: readonly string[],
): ReadHead | undefined {
  if (!raw.startsWith(PREFIX) || epoch.length === 0) return undefined
  const space = raw.indexOf(' ', PREFIX.length)
  if (space <= PREFIX.length) return undefined
  let at = space + 1
  const first = versions.length === 0 ? epoch : `${epoch} ${versions.join(' ')}`
  const end = raw.indexOf('\n', at)
  if (end - at !== first.length || raw.slice(at, end) !== first) return undefined
  at = end + 1
  const line = identityLine(address, tags)
  if (raw.slice(at, at + line.length) !== line) return undefined
  at += line.length
  // A hit needs the payload: the head alone (or a head line running on) is no hit.
  if (raw.charCodeAt(at) !== NEWLINE) return undefined
  const freshUntil = Number(raw.slice(PREFIX.length, space))
  if (!Number.isFinite(freshUntil)) return undefined
  const head: EntryHead = { identity: address.identity, freshUntil, epoch, tags, versions }
  return { head, body: at + 1 }
}

/**
 * Whether `raw` is stored under exactly `tags` for `address` (its identity line is the one
 * `matchHead` compares), whatever its versions. A plain read that finds such an entry not current
 * has proven it dead (read-path/plain-hit.ts); one under other tags it leaves to the full lookup,
 * which judges an entry by its own tags.
 */
export function storedUnder(raw: string, address: EntryAddress, tags: readonly string[]): boolean {
  const nl = raw.indexOf('\n')
  if (nl === -1) return false
  const line = identityLine(address, tags)
  return raw.startsWith(line, nl + 1) && raw.charCodeAt(nl + 1 + line.length) === NEWLINE
}
