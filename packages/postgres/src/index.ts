export { type PostgresInvalidation, postgresInvalidation } from './consumer.js'
export { ReplicationError, type ReplicationErrorReason } from './errors.js'
export type {
  PostgresInvalidationEventName,
  PostgresInvalidationEvents,
  PostgresInvalidationListener,
  PostgresInvalidationStats,
} from './events.js'
export type { PostgresInvalidationOptions } from './options.js'
