export { RedisBus } from '../redis/redis-bus.js'
export type { RedisUrlOptions } from '../redis/redis-connect.js'
export {
  type RedisClientOptions,
  RedisStore,
  type RedisStoreOptions,
  redisStore,
} from '../redis/redis-store.js'
export {
  RedisStreamQueue,
  type RedisStreamQueueOptions,
  redisStreamQueue,
} from '../write-behind/redis-stream-queue.js'
