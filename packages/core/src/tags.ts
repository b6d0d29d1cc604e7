import crypto from 'node:crypto'
import type { KeySpace } from './keys.js'
import { readVersions } from './store-ops.js'
import type { CacheStore, StoreWrite } from './stores/types.js'

/**
 * The tag-version protocol. A tag's current version is an opaque token in the store; an entry
 * is valid only while every token it was computed under is still current. Invalidating a tag
 * writes a new token. A missing token counts as "changed", so evicting a tag can only cause
 * misses, never bring an old entry back. Tokens are never compared by order or time, so no clock
 * or counter has to agree across hosts.
 */

/** A process-unique random prefix plus a counter: unique without a syscall per token. */
const processPrefix = crypto.randomBytes(9).toString('base64url')
let counter = 0

export function newToken(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${processPrefix}${counter.toString(36)}`
}

export interface Snapshot {
  epoch: string
  tags: readonly string[]
  versions: readonly string[]
}

export class TagVersions {
  constructor(
    private readonly keys: KeySpace,
    private readonly tagTtlMs: number,
  ) {}

  /** Store keys holding the versions of the namespace epoch followed by each tag. */
  storeKeys(tags: readonly string[]): string[] {
    const keys = [this.keys.globalKey]
    for (const tag of tags) keys.push(this.keys.tag(tag))
    return keys
  }

  /** The current versions of `tags`, missing ones created (one round trip on Redis). */
  async snapshot(store: CacheStore, tags: readonly string[]): Promise<Snapshot> {
    const versions = await readVersions(store, {
      keys: this.storeKeys(tags),
      token: newToken(),
      tagTtlMs: this.tagTtlMs,
    })
    return { epoch: versions[0]!, tags, versions: versions.slice(1) }
  }

  /** New tokens for `tags` (and the epoch when `everything`), and the writes that install them. */
  plan(tags: readonly string[], everything = false): { fresh: Map<string, string>; writes: StoreWrite[] } {
    const fresh = new Map<string, string>()
    for (const tag of new Set(tags)) fresh.set(tag, newToken())
    const writes: StoreWrite[] = [...fresh].map(([tag, token]) => ({
      key: this.keys.tag(tag),
      value: token,
      ttlMs: this.tagTtlMs,
    }))
    if (everything) writes.push({ key: this.keys.globalKey, value: newToken() })
    return { fresh, writes }
  }
}

/** True if every version in the entry is the current one; a missing current version is a change. */
export function isCurrent(
  entry: { epoch: string; versions: readonly string[] },
  currentEpoch: string | undefined,
  current: readonly (string | undefined)[],
): boolean {
  if (currentEpoch === undefined || entry.epoch !== currentEpoch) return false
  if (current.length !== entry.versions.length) return false
  for (let i = 0; i < current.length; i++) {
    if (current[i] === undefined || current[i] !== entry.versions[i]) return false
  }
  return true
}
