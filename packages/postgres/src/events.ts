import type { ReplicationError } from './errors.js'

export interface PostgresInvalidationEvents {
  /** This process holds the slot's lease and streams from it. */
  active: { slot: string }
  /** Another process holds the lease; this one takes over when it goes away. */
  standby: { slot: string }
  /** One committed transaction's invalidation reached the store and its position was acknowledged. */
  applied: {
    lsn: string
    changes: number
    tags: number
    everything: boolean
    collapsedTables: number
    /** ms from the transaction's COMMIT on the server to the store holding its invalidation. */
    lagMs: number
  }
  /** The slot retains more WAL than `maxLagBytes` (consumers are behind, or none is running). */
  lag: { slot: string; bytes: number; limit: number }
  error: ReplicationError
}

export type PostgresInvalidationEventName = keyof PostgresInvalidationEvents
export type PostgresInvalidationListener<E extends PostgresInvalidationEventName> = (
  payload: PostgresInvalidationEvents[E],
) => void

export interface PostgresInvalidationStats {
  active: boolean
  transactions: number
  changes: number
  tagsApplied: number
  /** Namespace invalidations: unmappable relation changes and lost slots. */
  namespaceInvalidations: number
  /** Tables whose changes in one transaction collapsed to table-level tags. */
  collapsedTables: number
  errors: number
  reconnects: number
  /** Last acknowledged position, "0/0" before the first. */
  acknowledgedLsn: string
  /** WAL the slot retains beyond its acknowledged position, as last measured. */
  lagBytes: number
  /** COMMIT-to-store delay of the last applied transaction. */
  lagMs: number
  /**
   * Transactions received before other sessions could see them, whose invalidation waited until
   * they could (a reader in between would otherwise have cached the old row as current).
   */
  invisibleCommits: number
}
