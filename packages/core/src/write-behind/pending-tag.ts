/**
 * The tag a write-behind value is cached under. Each `write()` moves it (compare-and-set, as
 * write-through does), so a value stored by an older, slower writer is never served over a newer
 * one; a successful flush moves it once more, after which reads of the key go to the database.
 */
export function pendingTag(key: string): string {
  return `write-behind:${key}`
}
