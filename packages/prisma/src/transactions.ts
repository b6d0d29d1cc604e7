import { AsyncLocalStorage } from 'node:async_hooks'
import { type PendingInvalidation, TransactionBuffer } from '@ormcache/core/adapter'
import { transactionClientId } from './prisma-internals.js'

type TransactionKind = 'itx' | 'batch'

interface Scope {
  buffer: TransactionBuffer
  kind: TransactionKind
  /** Prisma's transaction id, bound when known (interactive) or on the first query seen. */
  id: unknown
  parent: Scope | undefined
}

type OriginalTransaction = (this: unknown, input: unknown, options?: unknown) => Promise<unknown>

/**
 * Tracks `$transaction` calls made through the extended client so that invalidations of writes
 * inside them are buffered and applied once, after the commit and before the `$transaction`
 * promise resolves; a rollback drops them. Nested interactive transactions (savepoints) get a
 * savepoint level in the same buffer.
 *
 * A query belongs to a transaction only if Prisma says so (`__internalParams.transaction`); the
 * async context merely finds the buffer. A non-transactional query made inside a transaction
 * callback therefore still invalidates immediately.
 */
export class TransactionTracker {
  private readonly storage = new AsyncLocalStorage<Scope>()
  private readonly clients = new WeakMap<object, Scope>()

  /**
   * @param dirtyReads the driver shares one connection between transactions and other queries
   *   (better-sqlite3), so a read outside a transaction can see, and cache, its uncommitted rows:
   *   a rollback must then invalidate what the transaction wrote instead of dropping it.
   */
  constructor(
    private readonly original: OriginalTransaction,
    private readonly commit: (pending: PendingInvalidation) => Promise<void>,
    private readonly dirtyReads = false,
  ) {}

  /** True for the `tx` client of an interactive transaction started through this extension. */
  isTransactionClient(client: unknown): boolean {
    return typeof client === 'object' && client !== null && this.clients.has(client)
  }

  /** The buffer for a query Prisma runs inside transaction `tx`, if that transaction is ours. */
  bufferFor(tx: { kind?: string; id?: unknown }): TransactionBuffer | undefined {
    for (let scope = this.storage.getStore(); scope !== undefined; scope = scope.parent) {
      if (scope.kind !== tx.kind) continue
      if (scope.id === undefined) scope.id = tx.id
      if (scope.id === tx.id) return scope.buffer
    }
    return undefined
  }

  /** The `$transaction` installed on the extended client. */
  method(): (this: unknown, input: unknown, options?: unknown) => Promise<unknown> {
    const tracker = this
    return function $transaction(this: unknown, input: unknown, options?: unknown) {
      return tracker.run(this, input, options)
    }
  }

  private async run(client: unknown, input: unknown, options: unknown): Promise<unknown> {
    const enclosing = typeof client === 'object' && client !== null ? this.clients.get(client) : undefined
    if (enclosing !== undefined) return this.nested(enclosing, client, input, options)

    const scope: Scope = {
      buffer: new TransactionBuffer(),
      kind: typeof input === 'function' ? 'itx' : 'batch',
      id: undefined,
      parent: this.storage.getStore(),
    }
    let result: unknown
    try {
      result = await this.storage.run(scope, () =>
        this.original.call(client, this.bind(scope, input), options),
      )
    } catch (error) {
      if (this.dirtyReads) await this.commit(scope.buffer.drain())
      else scope.buffer.reset()
      throw error
    }
    await this.commit(scope.buffer.drain())
    return result
  }

  /** `tx.$transaction(…)`: a savepoint inside the enclosing transaction. */
  private async nested(
    enclosing: Scope,
    client: unknown,
    input: unknown,
    options: unknown,
  ): Promise<unknown> {
    const scope: Scope = {
      buffer: enclosing.buffer,
      kind: typeof input === 'function' ? 'itx' : 'batch',
      id: typeof input === 'function' ? enclosing.id : undefined,
      parent: enclosing,
    }
    enclosing.buffer.savepoint()
    try {
      const result = await this.storage.run(scope, () =>
        this.original.call(client, this.bind(scope, input), options),
      )
      enclosing.buffer.release()
      return result
    } catch (error) {
      // Rolled back to the savepoint; with dirty reads its writes were visible meanwhile.
      if (this.dirtyReads) enclosing.buffer.release()
      else enclosing.buffer.discardSavepoint()
      throw error
    }
  }

  private bind(scope: Scope, input: unknown): unknown {
    if (typeof input !== 'function') return input
    return (tx: unknown) => {
      if (typeof tx === 'object' && tx !== null) {
        this.clients.set(tx, scope)
        scope.id ??= transactionClientId(tx)
      }
      return (input as (tx: unknown) => unknown)(tx)
    }
  }
}
