import { TYPEORM_SUBJECTS } from '../subjects/typeorm.js'
import { AFTER_UPDATE, findTeamOperation, findUserOperation, runOrmThroughput } from './orm-throughput.js'
import type { Scenario } from './types.js'

export const typeormScenario: Scenario = {
  id: 'typeorm',
  title: '3. TypeORM on Postgres',
  run: (ctx) =>
    runOrmThroughput(
      {
        id: 'typeorm',
        title: '3. TypeORM on Postgres',
        factories: TYPEORM_SUBJECTS,
        operations: [
          findUserOperation('findOne({ where: { id } })'),
          findTeamOperation('find({ where: { teamId }, relations: { posts } }) — 10 users × 5 posts'),
        ],
        method:
          'TypeORM 1.x with the postgres driver (pool of 10 connections per DataSource) on the same seeded ' +
          'database. Each operation reads 100 different rows or team lists in turn with 1 and with 32 ' +
          'concurrent callers; after warm-up every cached DataSource answers from its cache. "speed-up" is ' +
          'ops/s over the uncached DataSource in the same run; "DB reads/op" counts SELECTs sent per operation. ' +
          AFTER_UPDATE,
        notes: [
          'ormcache: `typeormCache({ cache, alwaysEnabled: true })`, so every find is cached and invalidated by ' +
            'its subscriber. TypeORM built-in: `cache: { type: "ioredis", duration: 600000 }` with an explicit ' +
            'cache id per read (`cache: { id, milliseconds }`), because only named entries can be removed after ' +
            'a write (`queryResultCache.remove(ids)`, which the bench calls with the ids it knows are affected).',
          'ormcache (L1 strict + Redis): the same cache with `l1: { maxEntries: 10000 }` and the default ' +
            "`consistency: 'strict'`: a hit of a value the process holds reads only the epoch and tag versions " +
            '(GETEX + MGET) and copies the decoded value.',
          "TypeORM's built-in cache stores the raw driver rows as JSON and re-hydrates entities on every hit; " +
            'ormcache caches the raw rows with its codec (Date, Buffer, bigint strings exact).',
          'Both run the same find calls; TypeORM loads the relation with one LEFT JOIN query.',
        ],
      },
      ctx,
    ),
}
