import { ENTRY_MAGIC, type EntryHead, type ReadHead } from './entry.js'
import type { EntryAddress } from './query-key.js'
import { sameList } from './same-list.js'

const PREFIX = `${ENTRY_MAGIC} `
const SPACE = 32
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
 * identity line and no per-field strings. Same verdict as `readHead` + sameList + isCurrent:
 * stored tokens are never empty and never contain a space (writeEntry refuses them), so the
 * space-joined epoch and versions match the stored first line only when each token is equal.
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
  if (!raw.startsWith(epoch, at)) return undefined
  at += epoch.length
  for (let i = 0; i < versions.length; i++) {
    const version = versions[i]!
    if (version.length === 0 || raw.charCodeAt(at) !== SPACE || !raw.startsWith(version, at + 1))
      return undefined
    at += 1 + version.length
  }
  if (raw.charCodeAt(at) !== NEWLINE) return undefined
  const line = identityLine(address, tags)
  if (!raw.startsWith(line, at + 1)) return undefined
  at += 1 + line.length
  // A hit needs the payload: the head alone (or a head line running on) is no hit.
  if (raw.charCodeAt(at) !== NEWLINE) return undefined
  const freshUntil = Number(raw.slice(PREFIX.length, space))
  if (!Number.isFinite(freshUntil)) return undefined
  const head: EntryHead = { identity: address.identity, freshUntil, epoch, tags, versions }
  return { head, body: at + 1 }
}
