/**
 * Per-connection transaction state: invalidations of an open transaction wait on a savepoint
 * stack until the outermost COMMIT (write-tracker.ts applies them), and are dropped on ROLLBACK.
 */
import { TransactionBuffer } from '@ormcache/core/adapter'
import type { QueryRunner } from 'typeorm'
import type { PendingWriteThrough } from './write-through/install.js'

/** What the adapter remembers per TypeORM QueryRunner (one database connection). */
export class RunnerState {
  /** Invalidations of the open transaction, on a savepoint stack. */
  readonly buffer = new TransactionBuffer()
  /**
   * Tables whose statements the current operation already turned into tags ('*' = everything).
   * Entity events for these tables add nothing: the statement analysis saw exactly what ran.
   */
  readonly written = new Set<string>()
  /** The outermost COMMIT was sent; if a rollback follows, its outcome is unknown. */
  committing = false
  /**
   * Invalidations started by afterQuery and not yet applied. TypeORM 0.3 does not await
   * afterQuery on MySQL and SQLite; the entity events that follow are awaited, so they wait here.
   */
  inflight: Promise<unknown> = Promise.resolve()
  /** A write-through begun for the statement now running on this connection (write-through/install.ts). */
  writeThrough: PendingWriteThrough | undefined = undefined
}

const states = new WeakMap<QueryRunner, RunnerState>()

export function stateOf(runner: QueryRunner): RunnerState {
  let state = states.get(runner)
  if (state === undefined) {
    state = new RunnerState()
    states.set(runner, state)
  }
  return state
}
