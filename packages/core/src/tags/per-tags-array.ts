import { sameList } from '../same-list.js'

/**
 * Values derived from a tags array, kept per array. The arrays reads are asked with are
 * long-lived (an adapter's per-query-shape tags, an L1 entry's tags, the tags an entry was stored
 * under), and a list's name ~80 tags, so rebuilding what is derived from them on every read was a
 * visible part of a list hit's CPU. A copy of the array is kept and compared (by identity, one
 * pointer per tag), so an array changed in place after the value was made is never answered
 * with it.
 */
export class PerTagsArray<V> {
  private readonly kept = new WeakMap<readonly string[], { tags: readonly string[]; value: V }>()

  /** The value kept for `tags`, when the array still holds what it held then. */
  get(tags: readonly string[]): V | undefined {
    const kept = this.kept.get(tags)
    return kept !== undefined && sameList(kept.tags, tags) ? kept.value : undefined
  }

  set(tags: readonly string[], value: V): V {
    this.kept.set(tags, { tags: tags.slice(), value })
    return value
  }
}
