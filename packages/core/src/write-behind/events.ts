import type { OrmCacheError, WriteBehindError } from '../errors.js'
import { Emitter } from '../events.js'

export interface WriteBehindEvents {
  /** A batch reached the database; `items` is one per key (coalesced). */
  flush: { keys: readonly string[]; items: number; attempt: number; ms: number }
  /** A flush failed and will be tried again after `delayMs`. */
  retry: { keys: readonly string[]; attempt: number; delayMs: number; error: unknown }
  /** A batch failed `attempts` times and was moved to the dead-letter list. */
  'dead-letter': { keys: readonly string[]; attempts: number; error: WriteBehindError }
  /** A write went to the database synchronously because the queue or the store was unavailable. */
  fallback: { key: string; reason: 'queue-unavailable' | 'store-unavailable' }
  error: { error: OrmCacheError; operation: string; key?: string }
  /**
   * Once, after the queue first opens, when its server may lose acknowledged writes on a crash:
   * `none` (Redis without AOF) or `unknown` (the server refused to say, e.g. CONFIG not permitted).
   */
  durability: { persistence: 'none' | 'unknown'; message: string }
}

export type WriteBehindEventName = keyof WriteBehindEvents
export type WriteBehindListener<E extends WriteBehindEventName> = (event: WriteBehindEvents[E]) => void

/** Isolates throwing listeners: a listener's bug never breaks a flush or loses a write. */
export class WriteBehindEmitter extends Emitter<WriteBehindEvents> {}
