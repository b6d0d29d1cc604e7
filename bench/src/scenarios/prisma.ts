import { PRISMA_SUBJECTS } from '../subjects/prisma.js'
import { AFTER_UPDATE, findTeamOperation, findUserOperation, runOrmThroughput } from './orm-throughput.js'
import type { Scenario } from './types.js'

export const prismaScenario: Scenario = {
  id: 'prisma',
  title: '2. Prisma on Postgres',
  run: (ctx) =>
    runOrmThroughput(
      {
        id: 'prisma',
        title: '2. Prisma on Postgres',
        factories: PRISMA_SUBJECTS,
        operations: [
          findUserOperation('user.findUnique({ where: { id } })'),
          findTeamOperation('user.findMany({ where: { teamId }, include: { posts } }) — 10 users × 5 posts'),
        ],
        method:
          'Prisma 7 with the pg driver adapter (pool of 10 connections per client) on a seeded database ' +
          '(1,000 users in 100 teams, 5 posts each). Each operation reads 100 different rows or team lists in ' +
          'turn with 1 and with 32 concurrent callers; after warm-up every cached client answers from its cache. ' +
          '"speed-up" is ops/s over the uncached client in the same run; "DB reads/op" counts SELECTs sent to ' +
          'Postgres per operation during measurement. ' +
          AFTER_UPDATE,
        notes: [
          'ormcache: `cacheExtension({ cache })` with default options (caches every read, write-through on). ' +
            'prisma-extension-redis: `auto: { invalidateOnWrite: true }`, `type: "STRING"` (Redis 7 without ' +
            'RedisJSON), `stale: 0`, ioredis client with auto-pipelining. Same TTL (10 min) everywhere.',
          'ormcache (L1 strict + Redis): the same cache with `l1: { maxEntries: 10000 }` and the default ' +
            "`consistency: 'strict'`: a hit of a value the process holds reads only the epoch and tag versions " +
            '(GETEX + MGET) and copies the decoded value.',
          'ormcache keys are a hash of a canonical encoding of (model, operation, args) and values keep Prisma ' +
            'types (Date, Decimal, BigInt) exactly; prisma-extension-redis builds keys from the args and stores ' +
            'JSON (its deserializer restores Dates by pattern).',
          'prisma-extension-redis invalidates a model by SCANning its auto-cache key pattern on every write; ' +
            'ormcache moves tag versions (no key enumeration). Writes are not measured here (see Zipf).',
        ],
      },
      ctx,
    ),
}
