export { type RedisClientOptions, RedisStore, type RedisStoreOptions, redisStore } from './stores/redis.js'
export { RedisBus } from './stores/redis-bus.js'
export type { RedisUrlOptions } from './stores/redis-connect.js'
export {
  RedisStreamQueue,
  type RedisStreamQueueOptions,
  redisStreamQueue,
} from './stores/redis-stream-queue.js'
