import { OrmCacheError } from '@ormcache/core'

/**
 * Why the change stream cannot run or stopped:
 * - `wal_level`: the server's wal_level is not `logical` (set it and restart the server);
 * - `privilege`: the role lacks REPLICATION (or cannot create the publication);
 * - `slot_in_use`: another consumer, not coordinated with this one, streams from the slot;
 * - `slot_lost`: the slot disappeared under the consumer; changes in between are unknown, so the
 *   namespace was invalidated and the slot recreated;
 * - `connection`: the database connection failed or dropped (the consumer reconnects);
 * - `store`: an invalidation did not reach the cache store (the transaction is replayed).
 */
export type ReplicationErrorReason =
  | 'wal_level'
  | 'privilege'
  | 'slot_in_use'
  | 'slot_lost'
  | 'connection'
  | 'store'

export class ReplicationError extends OrmCacheError {
  readonly reason: ReplicationErrorReason

  constructor(reason: ReplicationErrorReason, message: string, options?: { cause?: unknown }) {
    super('ERR_REPLICATION', message, options)
    this.name = 'ReplicationError'
    this.reason = reason
  }
}

/** The message of a driver error without anything that could carry a credential. */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/postgres(ql)?:\/\/[^\s'"]*/gi, 'postgres://…')
}
