export interface WriteBehindStats {
  /** `write()` calls that were acknowledged (queued, or written to the database directly). */
  writes: number
  /** Writes that went to the database synchronously (queue or store unavailable). */
  fallbacks: number
  /** Successful `flush` calls. */
  flushes: number
  /** Items those calls carried: one per key per flush. */
  flushedItems: number
  /** Queued writes dropped because a newer write to the same key replaced them (coalescing). */
  superseded: number
  /** Failed flush attempts that were retried. */
  retries: number
  /** Writes moved to the dead-letter list. */
  deadLettered: number
  /** Dead letters queued again by `replayDeadLetters()`. */
  replayed: number
  errors: number
}

export type WriteBehindCounter = keyof WriteBehindStats

export function emptyStats(): WriteBehindStats {
  return {
    writes: 0,
    fallbacks: 0,
    flushes: 0,
    flushedItems: 0,
    superseded: 0,
    retries: 0,
    deadLettered: 0,
    replayed: 0,
    errors: 0,
  }
}
