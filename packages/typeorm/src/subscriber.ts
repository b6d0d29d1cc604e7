import {
  type AfterQueryEvent,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  type QueryRunner,
  type RecoverEvent,
  type RemoveEvent,
  type SoftRemoveEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
  type UpdateEvent,
} from 'typeorm'
import type { WriteTracker } from './write-tracker.js'

export type SubscriberClass = new () => EntitySubscriberInterface

/**
 * Builds the subscriber class for one `typeormCache()` call. TypeORM instantiates subscribers
 * itself (`new Class()`), so the tracker reaches the instance through the closure; the class is
 * registered with TypeORM's global metadata storage like any `@EventSubscriber()`.
 */
export function subscriberFor(tracker: WriteTracker): SubscriberClass {
  class OrmcacheSubscriber implements EntitySubscriberInterface {
    afterQuery(event: AfterQueryEvent): Promise<void> {
      return tracker.afterQuery(event)
    }

    beforeInsert(event: { queryRunner: QueryRunner }): void {
      tracker.operationStart(event.queryRunner)
    }
    beforeUpdate(event: { queryRunner: QueryRunner }): void {
      tracker.operationStart(event.queryRunner)
    }
    beforeRemove(event: { queryRunner: QueryRunner }): void {
      tracker.operationStart(event.queryRunner)
    }
    beforeSoftRemove(event: { queryRunner: QueryRunner }): void {
      tracker.operationStart(event.queryRunner)
    }
    beforeRecover(event: { queryRunner: QueryRunner }): void {
      tracker.operationStart(event.queryRunner)
    }

    afterInsert(event: InsertEvent<object>): Promise<void> {
      return tracker.entityWritten('insert', event)
    }
    afterUpdate(event: UpdateEvent<object>): Promise<void> {
      return tracker.entityWritten('update', event)
    }
    afterRemove(event: RemoveEvent<object>): Promise<void> {
      return tracker.entityWritten('remove', event)
    }
    afterSoftRemove(event: SoftRemoveEvent<object>): Promise<void> {
      return tracker.entityWritten('softRemove', event)
    }
    afterRecover(event: RecoverEvent<object>): Promise<void> {
      return tracker.entityWritten('recover', event)
    }

    afterTransactionStart(event: TransactionStartEvent): void {
      tracker.transactionStarted(event.queryRunner)
    }
    beforeTransactionCommit(event: TransactionCommitEvent): void {
      tracker.commitStarting(event.queryRunner)
    }
    afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
      return tracker.transactionCommitted(event.queryRunner)
    }
    afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> {
      return tracker.transactionRolledBack(event.queryRunner)
    }
  }
  EventSubscriber()(OrmcacheSubscriber)
  return OrmcacheSubscriber
}
