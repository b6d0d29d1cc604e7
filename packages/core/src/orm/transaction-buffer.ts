/**
 * Invalidations collected inside a database transaction. They must not reach the store before
 * the outermost commit (other readers would refill from uncommitted-invisible data and cache the
 * old rows), and a rollback must drop them. Savepoints nest: releasing one merges its tags into
 * the enclosing level, rolling back to one drops only what was recorded since.
 */
export interface PendingInvalidation {
  tags: string[]
  /** Something unnameable was written (unparsed raw SQL): invalidate the whole namespace. */
  everything: boolean
}

interface Level {
  tags: Set<string>
  everything: boolean
}

export class TransactionBuffer {
  private readonly levels: Level[] = [{ tags: new Set(), everything: false }]

  /** Savepoints currently open (0 = only the transaction itself). */
  get depth(): number {
    return this.levels.length - 1
  }

  get isEmpty(): boolean {
    return this.levels.every((level) => level.tags.size === 0 && !level.everything)
  }

  add(tags: Iterable<string>): void {
    const level = this.top()
    for (const tag of tags) level.tags.add(tag)
  }

  addEverything(): void {
    this.top().everything = true
  }

  savepoint(): void {
    this.levels.push({ tags: new Set(), everything: false })
  }

  /** RELEASE SAVEPOINT: its writes now belong to the enclosing level. */
  release(): void {
    if (this.levels.length === 1) return
    const released = this.levels.pop()!
    this.add(released.tags)
    if (released.everything) this.addEverything()
  }

  /** ROLLBACK TO SAVEPOINT: forget writes since the savepoint; the savepoint itself stays open. */
  rollbackToSavepoint(): void {
    if (this.levels.length === 1) return
    const level = this.top()
    level.tags.clear()
    level.everything = false
  }

  /** ROLLBACK TO SAVEPOINT followed by its release, as most ORMs do for a nested transaction. */
  discardSavepoint(): void {
    if (this.levels.length === 1) return
    this.levels.pop()
  }

  /** At the outermost COMMIT: everything recorded, merged; the buffer is empty afterwards. */
  drain(): PendingInvalidation {
    while (this.levels.length > 1) this.release()
    const level = this.top()
    const drained = { tags: [...level.tags], everything: level.everything }
    level.tags.clear()
    level.everything = false
    return drained
  }

  /** At ROLLBACK of the whole transaction. */
  reset(): void {
    this.levels.length = 1
    this.levels[0] = { tags: new Set(), everything: false }
  }

  private top(): Level {
    return this.levels[this.levels.length - 1]!
  }
}
