import type { Cache } from '@ormcache/core'
import { normalizeTable } from '@ormcache/core/adapter'
import type { AfterQueryEvent, DataSource, QueryRunner } from 'typeorm'
import { dataSourceOf } from './compat.js'
import { dialectOf } from './dialect.js'
import { schemaOf } from './schema/entity-schema.js'
import { stateOf } from './transactions.js'
import { type EntityWrite, type EntityWriteKind, entityWriteTags } from './write-effects/event-tags.js'
import { writeEffect } from './write-effects/write-effects.js'

/**
 * Turns what TypeORM executed into invalidations, and applies them at the right moment: at once
 * outside a transaction (TypeORM awaits the hook, so the write's promise resolves after it), on
 * the outermost COMMIT inside one, never after a ROLLBACK. Every hook swallows its own faults
 * and reports them as cache `error` events: a throw here would make a committed write look
 * failed.
 */
export class WriteTracker {
  constructor(private readonly cache: Cache) {}

  async afterQuery(event: AfterQueryEvent): Promise<void> {
    try {
      const runner = event.queryRunner
      const params = Array.isArray(event.parameters) ? event.parameters : []
      const effect = writeEffect(
        event.query,
        params,
        event.rawResults,
        dialectOf(dataSourceOf(event)),
        schemaOf(dataSourceOf(event)),
      )
      if (effect === undefined) return
      const state = stateOf(runner)
      for (const table of effect.tables) state.written.add(table)
      if (effect.everything) state.written.add('*')
      // The statement write-through widened: its intent commits these tags with the fill.
      const pending = state.writeThrough?.sql === event.query ? state.writeThrough : undefined
      if (pending !== undefined) state.writeThrough = undefined
      const applying =
        pending !== undefined && !runner.isTransactionActive
          ? pending.commit(effect, event.success ? event.rawResults : undefined)
          : this.apply(runner, effect.tags, effect.everything)
      state.inflight = Promise.all([state.inflight, applying.catch(() => undefined)])
      await applying
    } catch (error) {
      this.cache.reportError(error, 'typeorm:afterQuery')
    }
  }

  /** A Before* entity event: a new operation starts on this connection. */
  operationStart(runner: QueryRunner): void {
    stateOf(runner).written.clear()
  }

  async entityWritten(
    kind: EntityWriteKind,
    event: EntityWrite & { queryRunner: QueryRunner; dataSource?: DataSource; connection?: DataSource },
  ): Promise<void> {
    try {
      const state = stateOf(event.queryRunner)
      await state.inflight
      const written = state.written
      if (written.has('*') || written.has(normalizeTable(event.metadata.tableName))) return
      const tags = entityWriteTags(kind, event, schemaOf(dataSourceOf(event)))
      await this.apply(event.queryRunner, tags, false)
    } catch (error) {
      this.cache.reportError(error, `typeorm:after-${kind}`)
    }
  }

  transactionStarted(runner: QueryRunner): void {
    const state = stateOf(runner)
    if (depthOf(runner) <= 1) {
      state.buffer.reset()
      state.committing = false
    }
    while (state.buffer.depth < depthOf(runner) - 1) state.buffer.savepoint()
    state.written.clear()
  }

  commitStarting(runner: QueryRunner): void {
    if (depthOf(runner) <= 1) stateOf(runner).committing = true
  }

  /** AfterTransactionCommit also fires when a savepoint is released: only the outermost applies. */
  async transactionCommitted(runner: QueryRunner): Promise<void> {
    const state = stateOf(runner)
    try {
      if (runner.isTransactionActive) {
        while (state.buffer.depth > Math.max(0, depthOf(runner) - 1)) state.buffer.release()
        return
      }
      state.committing = false
      await this.flush(runner)
    } catch (error) {
      this.cache.reportError(error, 'typeorm:afterTransactionCommit')
    }
  }

  async transactionRolledBack(runner: QueryRunner): Promise<void> {
    const state = stateOf(runner)
    try {
      if (runner.isTransactionActive) {
        while (state.buffer.depth > Math.max(0, depthOf(runner) - 1)) state.buffer.discardSavepoint()
        return
      }
      if (state.committing) {
        // COMMIT failed and we cannot know whether it took effect: invalidating is always safe.
        state.committing = false
        await this.flush(runner)
      } else {
        state.buffer.reset()
      }
    } catch (error) {
      this.cache.reportError(error, 'typeorm:afterTransactionRollback')
    }
  }

  private async flush(runner: QueryRunner): Promise<void> {
    const state = stateOf(runner)
    const pending = state.buffer.drain()
    state.written.clear()
    await this.invalidate(pending.tags, pending.everything)
  }

  private async apply(runner: QueryRunner, tags: readonly string[], everything: boolean): Promise<void> {
    if (runner.isTransactionActive) {
      const buffer = stateOf(runner).buffer
      buffer.add(tags)
      if (everything) buffer.addEverything()
      return
    }
    await this.invalidate(tags, everything)
  }

  private async invalidate(tags: readonly string[], everything: boolean): Promise<void> {
    if (everything) await this.cache.clear()
    else if (tags.length > 0) await this.cache.invalidateTags(tags)
  }
}

/** Open transaction levels: 1 = the transaction, 2+ = savepoints (BaseQueryRunner keeps the count). */
function depthOf(runner: QueryRunner): number {
  const depth = (runner as { transactionDepth?: unknown }).transactionDepth
  return typeof depth === 'number' ? depth : runner.isTransactionActive ? 1 : 0
}
